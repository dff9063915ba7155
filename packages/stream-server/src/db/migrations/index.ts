import type { Migration, MigrationProvider } from 'kysely';

import * as m0001 from './0001-create-videos.js';
import * as m0002 from './0002-progressive-playlist.js';
import * as m0003 from './0003-webhook-deliveries.js';
import * as m0004 from './0004-poster-storyboard.js';
import * as m0005 from './0005-video-tasks.js';
import * as m0006 from './0006-video-captions.js';
import * as m0007 from './0007-source-variant.js';
import * as m0008 from './0008-orphaned-sources.js';
import * as m0010 from './0010-video-list-keyset.js';
import * as m0011 from './0011-video-chapters.js';
import * as m0012 from './0012-watch-sessions.js';
import * as m0013 from './0013-webhook-endpoints.js';
import * as m0015 from './0015-video-metadata.js';

/** Every migration, in order. Listed statically so the built package needs no file-system scan. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001-create-videos': m0001,
      '0002-progressive-playlist': m0002,
      '0003-webhook-deliveries': m0003,
      '0004-poster-storyboard': m0004,
      '0005-video-tasks': m0005,
      '0006-video-captions': m0006,
      '0007-source-variant': m0007,
      '0008-orphaned-sources': m0008,
      '0010-video-list-keyset': m0010,
      '0011-video-chapters': m0011,
      '0012-watch-sessions': m0012,
      '0013-webhook-endpoints': m0013,
      '0015-video-metadata': m0015,
    };
  },
};
