import type { ApiSchemaTypes } from '@notetaker/stream-server';
import { describe, expectTypeOf, it } from 'vitest';

import type {
  Caption,
  Chapter,
  ChapterList,
  VideoAnalytics,
  StreamFailed,
  StreamGenerating,
  StreamReady,
  UploadInstructions,
  Video,
  VideoPatch,
} from '@notetaker/client-sdk';
import type { RegisteredVideo, UploadTarget } from '@notetaker/client-sdk/server';

// The server generates /openapi.json from the same schemas these types come from, so the SDK's hand-written types
// are checked against the document at compile time (`npm run typecheck` fails on a drift). Each SDK type must accept
// everything the server sends and name no field the server does not document.

describe('SDK types against the OpenAPI schemas', () => {
  it('StreamReady', () => {
    expectTypeOf<ApiSchemaTypes['StreamReady']>().toExtend<StreamReady>();
    expectTypeOf<keyof StreamReady>().toEqualTypeOf<keyof ApiSchemaTypes['StreamReady']>();
  });

  it('StreamGenerating', () => {
    expectTypeOf<ApiSchemaTypes['StreamGenerating']>().toExtend<StreamGenerating>();
    expectTypeOf<keyof StreamGenerating>().toEqualTypeOf<keyof ApiSchemaTypes['StreamGenerating']>();
  });

  it('StreamFailed', () => {
    expectTypeOf<ApiSchemaTypes['StreamFailed']>().toExtend<StreamFailed>();
    expectTypeOf<keyof StreamFailed>().toEqualTypeOf<keyof ApiSchemaTypes['StreamFailed']>();
  });

  it('Video', () => {
    expectTypeOf<ApiSchemaTypes['Video']>().toExtend<Video>();
    expectTypeOf<keyof Video>().toEqualTypeOf<keyof ApiSchemaTypes['Video']>();
  });

  it('VideoPatch (the body of PATCH …/videos/{id} in both APIs)', () => {
    expectTypeOf<ApiSchemaTypes['VideoPatch']>().toEqualTypeOf<VideoPatch>();
  });

  it('Caption', () => {
    expectTypeOf<ApiSchemaTypes['Caption']>().toExtend<Caption>();
    expectTypeOf<keyof Caption>().toEqualTypeOf<keyof ApiSchemaTypes['Caption']>();
  });

  it('Chapter and ChapterList', () => {
    expectTypeOf<ApiSchemaTypes['Chapter']>().toExtend<Chapter>();
    expectTypeOf<keyof Chapter>().toEqualTypeOf<keyof ApiSchemaTypes['Chapter']>();
    expectTypeOf<ApiSchemaTypes['ChapterList']>().toExtend<ChapterList>();
    expectTypeOf<keyof ChapterList>().toEqualTypeOf<keyof ApiSchemaTypes['ChapterList']>();
  });

  it('VideoAnalytics', () => {
    expectTypeOf<ApiSchemaTypes['VideoAnalytics']>().toExtend<VideoAnalytics>();
    expectTypeOf<keyof VideoAnalytics>().toEqualTypeOf<keyof ApiSchemaTypes['VideoAnalytics']>();
  });

  it('UploadInstructions (the register answers of both APIs), which the management client takes as an UploadTarget', () => {
    expectTypeOf<ApiSchemaTypes['UploadInstructions']>().toEqualTypeOf<UploadInstructions>();
    expectTypeOf<UploadInstructions>().toExtend<UploadTarget>();
  });

  it('RegisteredVideo (management register answer)', () => {
    expectTypeOf<ApiSchemaTypes['Registered']>().toExtend<RegisteredVideo>();
  });
});
