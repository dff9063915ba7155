export function makeVodFixture(dir: string, seconds?: number): Promise<void>;
export function makeQualityFixture(dir: string, seconds?: number): Promise<void>;
export function mediaFixtures(options?: { rootDir?: string }): object;
export function flakyHlsMiddleware(options?: { rootDir?: string }): unknown;
