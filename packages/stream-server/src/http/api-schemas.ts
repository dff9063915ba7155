import { z } from 'zod';

import { MAX_EXTERNAL_ID_LENGTH, MAX_METADATA_BYTES, MAX_TITLE_LENGTH } from '../videos/video-details.js';
import { hasUnsafeText, UNSAFE_TEXT_MESSAGE } from './request-helpers.js';

// The shapes the HTTP API takes and answers. Routes validate requests with them and describe themselves with them,
// so the OpenAPI document at /openapi.json is generated from the same definitions the code runs.

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A stable snake_case code; see docs/errors/<code>.md' }),
      message: z.string().meta({ description: 'What went wrong and what to do, for people' }),
    }),
  })
  .meta({ id: 'Error' });

export const Video = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    title: z.string().nullable(),
    external_id: z
      .string()
      .nullable()
      .meta({ description: 'Your own id for the video (unique per owner); find it with `?external_id=`' }),
    metadata: z
      .record(z.string(), z.unknown())
      .meta({ description: 'Your JSON object for the video, as you last set it (`{}` when none)' }),
    upload_status: z.enum(['pending', 'complete']),
    size_bytes: z.number().nullable(),
    duration_seconds: z.number().nullable(),
    hls_status: z.enum(['generating', 'ready', 'failed']).nullable(),
    hls_progress: z.number().min(0).max(1).nullable(),
    hls_error_message: z.string().nullable(),
    hls_generated_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'Video' });

export const VideoList = z
  .object({
    videos: z.array(Video),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .meta({ id: 'VideoList' });

export const StreamGenerating = z
  .object({
    status: z.literal('generating'),
    retry_after: z
      .number()
      .int()
      .meta({ description: 'Seconds to wait before asking again (also in Retry-After)' }),
    progress: z.number().min(0).max(1).optional(),
    playable: z
      .literal(true)
      .optional()
      .meta({ description: 'Present once the first segments can be played' }),
    hls_url: z.url().optional(),
    expires_at: z.iso.datetime().optional(),
  })
  .meta({ id: 'StreamGenerating' });

export const StreamReady = z
  .object({
    status: z.literal('ready'),
    hls_url: z.url().meta({
      description:
        'The source rendition (`playlist.m3u8`), or the master playlist (`master.m3u8`) once the video has lower ' +
        'renditions or caption tracks; carries a playback token',
    }),
    expires_at: z.iso.datetime(),
    poster_url: z
      .url()
      .optional()
      .meta({
        description:
          'A JPEG frame of the video (302 to a presigned URL); absent for audio-only videos and until it is made, ' +
          'a few seconds after the video is ready',
      }),
    storyboard_url: z
      .url()
      .optional()
      .meta({
        description:
          'A WebVTT of seek-preview thumbnails, cues `<sprite URL>#xywh=x,y,w,h`; absent when none, and until it is ' +
          'made, a few seconds after the video is ready',
      }),
    chapters_url: z
      .url()
      .optional()
      .meta({
        description:
          'A WebVTT `kind=chapters` track (one cue per chapter), behind the same playback token; present when the ' +
          'video has chapters',
      }),
  })
  .meta({ id: 'StreamReady' });

export const StreamFailed = z
  .object({ status: z.literal('failed'), error_message: z.string() })
  .meta({ id: 'StreamFailed' });

export const StreamSettled = z.union([StreamReady, StreamFailed]).meta({ id: 'StreamSettled' });

export const UploadInstructions = z
  .union([
    z.object({
      method: z.literal('PUT'),
      url: z.url().meta({ description: 'Takes exactly the registered size and type, once' }),
      headers: z
        .record(z.string(), z.string())
        .meta({ description: 'Send every one with the PUT (they are signed: Content-Type, If-None-Match)' }),
      expires_at: z.iso.datetime(),
    }),
    z.object({
      method: z.literal('multipart'),
      video_id: z.uuid(),
      upload_id: z.string(),
      part_size: z.number().int(),
      part_count: z
        .number()
        .int()
        .meta({ description: 'Parts of the file; `parts` has the first URLs only' }),
      parts: z
        .array(z.object({ part_number: z.number().int(), url: z.url() }))
        .meta({ description: 'URLs of the first parts (at most 100); ask `upload/parts` for the others' }),
      expires_at: z.iso.datetime(),
    }),
  ])
  .meta({ id: 'UploadInstructions' });

export const Registered = z.object({ video: Video, upload: UploadInstructions }).meta({ id: 'Registered' });

const titleText = z
  .string()
  .max(MAX_TITLE_LENGTH)
  .refine((value) => !hasUnsafeText(value), UNSAFE_TEXT_MESSAGE);
const title = titleText.optional();
const externalIdText = z
  .string()
  .min(1)
  .max(MAX_EXTERNAL_ID_LENGTH)
  .refine((value) => !hasUnsafeText(value), UNSAFE_TEXT_MESSAGE)
  .meta({
    description: `Your own id for the video, 1–${MAX_EXTERNAL_ID_LENGTH} characters, unique per owner (409 when taken)`,
  });
const metadataObject = z.record(z.string(), z.unknown()).meta({
  description: `A JSON object of your own, at most ${MAX_METADATA_BYTES} bytes as JSON and 8 levels deep`,
});
/** What a host app may say about a video when it registers or imports it. */
const details = { external_id: externalIdText.optional(), metadata: metadataObject.optional() };
const contentType = z
  .string()
  .regex(/^[a-z]+\/[a-z0-9.+-]+$/i, 'must be a MIME type')
  .optional();
const sizeBytes = z
  .number()
  .int()
  .positive()
  .max(5 * 1024 ** 4)
  .optional()
  .meta({ description: 'Above MULTIPART_THRESHOLD_BYTES the upload is multipart' });

export const UserUploadBody = z.object({
  title,
  content_type: contentType,
  size_bytes: sizeBytes,
  ...details,
});

export const VideoPatchBody = z
  .strictObject({
    title: titleText.nullable().optional().meta({ description: 'null removes the title' }),
    external_id: externalIdText
      .nullable()
      .optional()
      .meta({ description: 'Your own id for the video, unique per owner (409 when taken); null removes it' }),
    metadata: metadataObject
      .nullable()
      .optional()
      .meta({ description: 'Replaces the whole object (no merge); null empties it' }),
  })
  .refine(
    (body) => body.title !== undefined || body.external_id !== undefined || body.metadata !== undefined,
    'give at least one of title, external_id, metadata',
  )
  .meta({ id: 'VideoPatch' });

export const RegisterBody = UserUploadBody.extend({ owner_id: z.string().min(1).max(128) });

export const CompleteUploadBody = z.object({
  parts: z
    .array(z.object({ part_number: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
    .max(10_000)
    .optional()
    .meta({ description: 'For multipart uploads: every part with the ETag its PUT answered' }),
});

export const PartUrlsBody = z.object({
  part_numbers: z.array(z.number().int().min(1).max(10_000)).min(1).max(100),
});

export const PartUrls = z
  .object({
    parts: z.array(z.object({ part_number: z.number().int(), url: z.url() })),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'PartUrls' });

export const UploadState = z
  .union([
    z.object({
      video_id: z.uuid(),
      status: z.literal('pending'),
      method: z.literal('PUT'),
      url: z.url().meta({ description: 'A fresh URL: takes exactly the registered size and type, once' }),
      headers: z.record(z.string(), z.string()).meta({ description: 'Send every one with the PUT' }),
      expires_at: z.iso.datetime(),
    }),
    z.object({
      video_id: z.uuid(),
      status: z.literal('pending'),
      method: z.literal('multipart'),
      upload_id: z.string(),
      part_size: z.number().int(),
      part_count: z.number().int(),
      stored_parts: z
        .array(z.object({ part_number: z.number().int(), etag: z.string(), size: z.number().int() }))
        .meta({ description: 'Parts storage holds, with the ETags `upload/complete` needs' }),
      parts: z.array(z.object({ part_number: z.number().int(), url: z.url() })).meta({
        description: 'Fresh URLs for the first missing parts (at most 100); `upload/parts` gives more',
      }),
      expires_at: z.iso.datetime(),
    }),
  ])
  .meta({ id: 'UploadState' });

export const ImportBody = z.object({
  owner_id: z.string().min(1).max(128),
  source_key: z.string().min(1).max(1024),
  title,
  ...details,
});

export const DevTokenBody = z.object({ user: z.string().trim().min(1).max(128) });

export const DevTokenAnswer = z
  .object({ token: z.string(), user: z.string(), expires_at: z.iso.datetime() })
  .meta({ id: 'DevToken' });

export const Caption = z
  .object({
    language: z.string().meta({ description: 'BCP-47 tag in canonical case, e.g. `en`, `pt-BR`, `zh-Hant`' }),
    label: z
      .string()
      .meta({ description: "What players show in their captions menu, e.g. 'Portuguese (Brazil)'" }),
    default: z
      .boolean()
      .meta({ description: 'Shown without the viewer choosing (at most one track per video)' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Caption' });

export const CaptionList = z.object({ captions: z.array(Caption) }).meta({ id: 'CaptionList' });

export const Chapter = z
  .object({
    start_seconds: z.number().min(0).meta({
      description: 'Where the chapter starts, in seconds from the start of the video (millisecond precision)',
    }),
    title: z.string().meta({ description: '1–200 characters, no control characters' }),
  })
  .meta({ id: 'Chapter' });

export const ChaptersBody = z.object({
  chapters: z.array(z.object({ start_seconds: z.number(), title: z.string() })).meta({
    description:
      'Sorted by start with unique starts, the first at 0; at most 500; an empty list removes the chapters',
  }),
});

export const ChapterList = z
  .object({
    chapters: z.array(Chapter).meta({ description: 'Sorted by start; empty when the video has none' }),
    updated_at: z.iso.datetime().nullable().meta({ description: 'When they were last set; null when none' }),
  })
  .meta({ id: 'ChapterList' });

const secondRanges = z
  .array(z.tuple([z.number().int().min(0), z.number().int().min(1)]))
  .max(1000)
  .optional();

export const WatchReportBody = z
  .object({
    session_id: z
      .uuid()
      .meta({ description: 'Made by the player for the session; each report replaces the last' }),
    startup_ms: z
      .number()
      .min(0)
      .nullable()
      .optional()
      .meta({ description: 'First /stream request → first frame' }),
    rebuffer_count: z.number().int().min(0).optional(),
    rebuffer_ms: z.number().min(0).optional(),
    error_code: z
      .string()
      .nullable()
      .optional()
      .meta({ description: "The player's error code, if it stopped on one" }),
    watched: secondRanges.meta({ description: 'Seconds watched, sorted disjoint [start, end) ranges' }),
    rewatched: secondRanges.meta({ description: 'Seconds watched more than once, the same way' }),
    rendition_switches: z.number().int().min(0).optional(),
    reached_90: z.boolean().optional(),
    final: z.boolean().optional().meta({ description: 'The last report of the session' }),
  })
  .meta({ id: 'WatchReport' });

export const VideoAnalytics = z
  .object({
    views: z.number().int().meta({ description: 'Viewing sessions' }),
    unique_viewers: z.number().int(),
    watch_time_seconds: z.number(),
    completion_rate: z.number().nullable().meta({ description: 'Share of sessions that reached 90 %' }),
    retention: z
      .array(z.number())
      .meta({ description: 'Share of sessions that watched each second (index = second)' }),
    rewind_hotspots: z
      .array(z.object({ second: z.number().int(), sessions: z.number().int() }))
      .meta({ description: 'The seconds most watched again, most first (at most 5)' }),
    startup_ms: z.object({ median: z.number().nullable(), p95: z.number().nullable() }),
    rebuffer_ratio: z.number().nullable(),
    failure_rate: z
      .number()
      .nullable()
      .meta({ description: 'Share of sessions that stopped on a playback error' }),
  })
  .meta({ id: 'VideoAnalytics' });

/** The TypeScript types of the API's documented shapes (what /openapi.json describes), for clients to check against. */
export interface ApiSchemaTypes {
  Video: z.infer<typeof Video>;
  VideoPatch: z.infer<typeof VideoPatchBody>;
  VideoList: z.infer<typeof VideoList>;
  StreamReady: z.infer<typeof StreamReady>;
  StreamGenerating: z.infer<typeof StreamGenerating>;
  StreamFailed: z.infer<typeof StreamFailed>;
  UploadInstructions: z.infer<typeof UploadInstructions>;
  Registered: z.infer<typeof Registered>;
  UploadState: z.infer<typeof UploadState>;
  Caption: z.infer<typeof Caption>;
  CaptionList: z.infer<typeof CaptionList>;
  Chapter: z.infer<typeof Chapter>;
  ChapterList: z.infer<typeof ChapterList>;
  VideoAnalytics: z.infer<typeof VideoAnalytics>;
  Error: z.infer<typeof ErrorBody>;
}

const watchIds = z
  .array(z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a video id'))
  .max(100)
  .meta({ description: "Other users' video ids the token may watch (the `watch` claim), at most 100" });

export const UserTokenBody = z.object({
  sub: z.string().trim().min(1).max(256).meta({ description: 'The user the token speaks for' }),
  watch: watchIds.optional(),
  ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 60 * 60)
    .optional()
    .meta({ description: 'Lifetime; default 3600 (an hour), at most 7 days' }),
});

export const UserTokenAnswer = z
  .object({
    token: z.string().meta({ description: 'A user token (HS256 JWT) the service accepts as a bearer token' }),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: 'UserToken' });

const webhookEventNames = z.array(z.string().max(100)).max(50).nullable().meta({
  description:
    'Event types this endpoint receives, e.g. `["video.hls.ready", "video.deleted"]`; `null` (or omitted on create) for every event',
});

export const WebhookEndpoint = z
  .object({
    id: z.uuid(),
    url: z.url(),
    description: z.string().nullable(),
    events: z
      .array(z.string())
      .nullable()
      .meta({ description: 'Event types it receives; `null` for every event' }),
    enabled: z.boolean().meta({ description: 'A disabled endpoint receives nothing' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const WebhookEndpointList = z
  .object({ webhooks: z.array(WebhookEndpoint) })
  .meta({ id: 'WebhookEndpointList' });

const webhookSecret = z.string().meta({
  description:
    'The signing secret, `whsec_` + base64 of the key (Standard Webhooks). Answered only here: store it now',
});

export const WebhookEndpointCreated = WebhookEndpoint.extend({ secret: webhookSecret }).meta({
  id: 'WebhookEndpointCreated',
});

export const WebhookSecretRotated = WebhookEndpoint.extend({
  secret: webhookSecret,
  previous_secret_expires_at: z.iso.datetime().meta({
    description: 'Until then deliveries carry a signature with the old secret too',
  }),
}).meta({ id: 'WebhookSecretRotated' });

export const WebhookEndpointBody = z.strictObject({
  url: z.string().max(4096).meta({ description: 'Where events are POSTed: an absolute http(s) URL' }),
  events: webhookEventNames.optional(),
  description: z.string().max(1000).nullable().optional(),
  enabled: z.boolean().optional(),
});

export const WebhookEndpointPatch = z.strictObject({
  url: z.string().max(4096).optional(),
  events: webhookEventNames.optional(),
  description: z.string().max(1000).nullable().optional(),
  enabled: z.boolean().optional(),
});
