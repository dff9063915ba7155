export function runFfmpeg(args: string[]): Promise<void>;
export function testSourceArgs(seconds: number): string[];
export function makeVodFixture(dir: string, seconds?: number): Promise<void>;
export function makeStoryboardFixture(dir: string, seconds?: number): Promise<void>;
export function makeQualityFixture(dir: string, seconds?: number): Promise<void>;
export function mediaFixtures(options?: { rootDir?: string }): object;
export function flakyHlsMiddleware(options?: { rootDir?: string }): unknown;
