/** The system ffmpeg, or `FFMPEG_PATH`. */
export declare const FFMPEG_PATH: string;
/** Runs ffmpeg quietly (`-y`, errors only); rejects with the end of its stderr when it fails. */
export declare function runFfmpeg(args: string[]): Promise<void>;
/** `seconds` of 320×180 test pattern with a sine tone, H.264/AAC, a keyframe every second (add the output). */
export declare function testSourceArgs(seconds: number): string[];
/** Builds `dir` with `make(partialDir)` under a temporary name and renames it; does nothing when `dir` exists. */
export declare function makeFixtureFolder(
  dir: string,
  make: (partial: string) => Promise<void>,
): Promise<void>;
/** A WebVTT file of `[startSeconds, endSeconds, text]` cues (under a minute). */
export declare function webVtt(cues: Array<[number, number, string]>): string;
/** A storyboard of a `seconds`-long test pattern made by ffmpeg and a VTT pointing into its sprite. */
export declare function makeStoryboardFixture(dir: string, seconds?: number): Promise<void>;
