import { open } from 'node:fs/promises';

export interface Mp4Track {
  /** Position among the `trak` boxes of `moov`, in file order (ffmpeg's stream index for MP4). */
  index: number;
  /** The `hdlr` handler type of the track's `mdia`: 'vide', 'soun', 'text', 'tmcd', 'meta', … */
  handler: string;
  /** The four-character code of the first sample entry in `stsd`: 'avc1', 'avc3', 'hvc1', 'mp4a', 'Opus', … ('' when there is none) */
  sampleEntry: string;
  /** Number of sample entries in stsd. */
  sampleEntryCount: number;
  /** True when the display transformation (tkhd matrix combined with the mvhd matrix) turns or flips the picture; false for identity rotation (scaling alone counts as not rotated: require b == 0, c == 0, a > 0, d > 0 in the combined matrix, 16.16 fixed point). */
  rotated: boolean;
  /** For avc1/avc3: from the first SPS in avcC (parse the SPS NAL with emulation-prevention bytes removed, exp-Golomb). chroma_format_idc defaults to 1 and bit depths to 8 for profiles without those fields (profile_idc not in 100,110,122,244,44,83,86,118,128,138,139,134,135). */
  h264?:
    { profileIdc: number; chromaFormatIdc: number; bitDepthLuma: number; bitDepthChroma: number } | undefined;
  /** For mp4a: from esds. objectTypeIndication (0x40 = MPEG-4 audio, 0x66/0x67/0x68 = MPEG-2 AAC, 0x69/0x6B = MP3…), and for MPEG-4 audio the AudioSpecificConfig's audioObjectType (5 bits, 31 → 32 + next 6 bits) and channelConfiguration (4 bits, after the sampling frequency index — which is 4 bits, or 4+24 bits when it is 15). */
  aac?:
    | {
        objectTypeIndication: number;
        audioObjectType?: number | undefined;
        channelConfiguration?: number | undefined;
      }
    | undefined;
  /** channelcount field of the audio sample entry (for soun tracks). */
  channelCount?: number | undefined;
  /** For vide tracks: the picture size the visual sample entry states. */
  width?: number | undefined;
  height?: number | undefined;
  /** For avc1/avc3: `AVCLevelIndication` of the avcC (level_idc: 31 = level 3.1). */
  levelIdc?: number | undefined;
  /** The movie's duration in seconds (`mvhd` duration over its timescale), when it states one. */
  movieDurationSeconds?: number | undefined;
}

export interface ReadMp4TracksOptions {
  signal?: AbortSignal | undefined;
  /** Largest moov read; default 64 MiB. Bigger → undefined. */
  maxIndexBytes?: number | undefined;
}

/** Bytes read at the start of the file, and at each later top-level box header that lies beyond what was read. */
const WINDOW_BYTES = 64 * 1024;
const DEFAULT_MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Top-level boxes stepped over on the way to `moov`; real files need 1–4 (ftyp, free, wide, mdat). */
const MAX_HOPS = 16;
/** What a file may start with: `ftyp`, or for QuickTime files written before `ftyp` existed, these. */
const FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);
/** H.264 profiles whose SPS carries chroma_format_idc and the bit depths (7.3.2.1.1 of the spec). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Bytes that do not fit the layout being read. Thrown by the parsers below; never leaves this module. */
class Malformed extends Error {
  constructor() {
    super('malformed ISO-BMFF data');
  }
}

/** Returns `read()`, or `undefined` when it finds the bytes malformed (other errors pass). */
function orUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes and boxes

function need(data: Uint8Array, at: number, length: number): void {
  if (at < 0 || length < 0 || at + length > data.length) throw new Malformed();
}

function u8(data: Uint8Array, at: number): number {
  need(data, at, 1);
  return data[at]!;
}

function u16(data: Uint8Array, at: number): number {
  need(data, at, 2);
  return (data[at]! << 8) | data[at + 1]!;
}

function u32(data: Uint8Array, at: number): number {
  need(data, at, 4);
  return data[at]! * 0x1000000 + ((data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!);
}

function i32(data: Uint8Array, at: number): number {
  return u32(data, at) | 0;
}

/** A 64-bit size; sizes beyond 2^53 are not files anyone reads. */
function u64(data: Uint8Array, at: number): number {
  const value = u32(data, at) * 0x100000000 + u32(data, at + 4);
  if (!Number.isSafeInteger(value)) throw new Malformed();
  return value;
}

function fourcc(data: Uint8Array, at: number): string {
  need(data, at, 4);
  return String.fromCharCode(data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!);
}

interface Box {
  type: string;
  /** Offset of the box's first byte. */
  start: number;
  /** Offset of the payload: after size and type (and largesize). */
  body: number;
  /** Offset just past the box. */
  end: number;
}

/** The box whose header is at `at` and which must end by `limit` (its parent's end); size 0 runs to `limit`. */
function boxAt(data: Uint8Array, at: number, limit: number): Box {
  let size = u32(data, at);
  const type = fourcc(data, at + 4);
  let body = at + 8;
  if (size === 1) {
    size = u64(data, at + 8);
    body = at + 16;
  } else if (size === 0) {
    size = limit - at;
  }
  const end = at + size;
  if (end < body || end > limit) throw new Malformed();
  return { type, start: at, body, end };
}

/** The boxes laid end to end in `[from, to)`. */
function* boxesIn(data: Uint8Array, from: number, to: number): Generator<Box> {
  let at = from;
  while (to - at >= 8) {
    const box = boxAt(data, at, to);
    yield box;
    at = box.end;
  }
  // A 32-bit zero after the last child is a QuickTime terminator; any other leftover is not a box.
  for (; at < to; at += 1) if (data[at] !== 0) throw new Malformed();
}

/** The first child of `parent` (children starting at `from`) of type `type`. */
function childOf(data: Uint8Array, parent: Box, type: string, from = parent.body): Box | undefined {
  for (const box of boxesIn(data, from, parent.end)) if (box.type === type) return box;
  return undefined;
}

/** Reads the bits of an RBSP or AudioSpecificConfig, most significant first. */
class BitReader {
  private position = 0;

  constructor(private readonly data: Uint8Array) {}

  /** The next `count` (≤ 32) bits as an unsigned number. */
  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i += 1) {
      const byte = this.data[this.position >> 3];
      if (byte === undefined) throw new Malformed();
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position += 1;
    }
    return value;
  }

  /** An unsigned exp-Golomb code, ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) {
      zeros += 1;
      if (zeros > 31) throw new Malformed();
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// H.264

/** The NAL payload without its emulation-prevention bytes (each 0x03 following two zero bytes). */
function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let length = 0;
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out[length] = byte;
    length += 1;
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, length);
}

/**
 * Reads profile, chroma format and bit depths from an H.264 sequence parameter set NAL unit (with its one-byte
 * NAL header, as avcC stores it). `undefined` when it is not an SPS or its values are out of range. Pure.
 */
export function parseH264Sps(nal: Uint8Array): Mp4Track['h264'] {
  return orUndefined(() => {
    const header = u8(nal, 0);
    if ((header & 0x80) !== 0 || (header & 0x1f) !== 7) return undefined;
    const bits = new BitReader(unescapeRbsp(nal.subarray(1)));
    const profileIdc = bits.bits(8);
    bits.bits(16); // constraint_set flags and reserved bits, level_idc
    if (bits.ue() > 31) return undefined; // seq_parameter_set_id
    if (!HIGH_PROFILES.has(profileIdc)) {
      return { profileIdc, chromaFormatIdc: 1, bitDepthLuma: 8, bitDepthChroma: 8 };
    }
    const chromaFormatIdc = bits.ue();
    if (chromaFormatIdc > 3) return undefined;
    if (chromaFormatIdc === 3) bits.bits(1); // separate_colour_plane_flag
    const bitDepthLuma = 8 + bits.ue();
    const bitDepthChroma = 8 + bits.ue();
    if (bitDepthLuma > 14 || bitDepthChroma > 14) return undefined;
    return { profileIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma };
  });
}

/** The first SPS of an `avcC` box (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 5.3.3.1). */
function parseAvcC(data: Uint8Array, avcC: Box): Mp4Track['h264'] {
  // configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSequenceParameterSets (5 bits)
  if (u8(data, avcC.body) !== 1 || (u8(data, avcC.body + 5) & 0x1f) === 0) return undefined;
  const length = u16(data, avcC.body + 6);
  const start = avcC.body + 8;
  if (start + length > avcC.end) throw new Malformed();
  return parseH264Sps(data.subarray(start, start + length));
}

// ---------------------------------------------------------------------------------------------------------------
// AAC (MPEG-4 Systems descriptors, ISO/IEC 14496-1 7.2.6)

interface Descriptor {
  tag: number;
  body: number;
  end: number;
}

/** The descriptor at `at`: a tag byte, then a size of 1–4 bytes of 7 bits each (high bit: another byte follows). */
function descriptorAt(data: Uint8Array, at: number, limit: number): Descriptor {
  const tag = u8(data, at);
  let size = 0;
  let body = at + 1;
  for (let i = 0; i < 4; i += 1) {
    const byte = u8(data, body);
    body += 1;
    size = size * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  const end = body + size;
  if (end > limit) throw new Malformed();
  return { tag, body, end };
}

/** audioObjectType and channelConfiguration from an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
function parseAudioSpecificConfig(config: Uint8Array): {
  audioObjectType: number;
  channelConfiguration: number;
} {
  const bits = new BitReader(config);
  let audioObjectType = bits.bits(5);
  if (audioObjectType === 31) audioObjectType = 32 + bits.bits(6);
  if (bits.bits(4) === 15) bits.bits(24); // samplingFrequencyIndex; 15 = the frequency follows explicitly
  return { audioObjectType, channelConfiguration: bits.bits(4) };
}

/**
 * Reads the decoder configuration from the payload of an `esds` box (from its version byte on): the
 * objectTypeIndication, and for MPEG-4 audio (0x40) the AudioSpecificConfig's object type and channel
 * configuration when it is there. `undefined` when the descriptors are not laid out as ffmpeg reads them. Pure.
 */
export function parseEsds(payload: Uint8Array): Mp4Track['aac'] {
  return orUndefined(() => {
    if (u8(payload, 0) !== 0) return undefined; // version 0, then 24 bits of flags
    const es = descriptorAt(payload, 4, payload.length);
    if (es.tag !== 0x03) return undefined; // ES_Descriptor
    let at = es.body + 2; // ES_ID
    const flags = u8(payload, at);
    at += 1;
    if (flags & 0x80) at += 2; // streamDependenceFlag → dependsOn_ES_ID
    if (flags & 0x40) at += 1 + u8(payload, at); // URL_Flag → URLlength, URLstring
    if (flags & 0x20) at += 2; // OCRstreamFlag → OCR_ES_Id
    const config = descriptorAt(payload, at, es.end);
    if (config.tag !== 0x04) return undefined; // DecoderConfigDescriptor
    const objectTypeIndication = u8(payload, config.body);
    // streamType/upStream (1), bufferSizeDB (3), maxBitrate (4), avgBitrate (4)
    const next = config.body + 13;
    if (next > config.end) throw new Malformed();
    if (objectTypeIndication !== 0x40 || next === config.end) return { objectTypeIndication };
    const info = descriptorAt(payload, next, config.end);
    if (info.tag !== 0x05) return { objectTypeIndication }; // DecoderSpecificInfo
    const audio = orUndefined(() => parseAudioSpecificConfig(payload.subarray(info.body, info.end)));
    return { objectTypeIndication, ...audio };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// moov

/** A 3×3 display matrix as stored: a b u / c d v / x y w, with u, v, w in 2.30 and the rest in 16.16 fixed point. */
type Matrix = readonly number[];

/** The matrix of an `mvhd` or `tkhd` box, which sits `v0`/`v1` bytes into the payload for version 0/1. */
function matrixOf(data: Uint8Array, box: Box, v0: number, v1: number): Matrix {
  const version = u8(data, box.body);
  if (version > 1) throw new Malformed();
  const at = box.body + (version === 1 ? v1 : v0);
  return Array.from({ length: 9 }, (_, i) => i32(data, at + 4 * i));
}

/**
 * Whether `track × movie` (ffmpeg's combination in mov_read_tkhd, in its 32-bit integer arithmetic) turns or flips
 * the picture: anything but b = c = 0 with a, d > 0.
 */
function isRotated(track: Matrix, movie: Matrix): boolean {
  const shifts = [16n, 16n, 30n];
  const element = (row: number, column: number): bigint => {
    let sum = 0n;
    for (let e = 0; e < 3; e += 1) {
      const product = BigInt(track[row * 3 + e]!) * BigInt(movie[e * 3 + column]!);
      sum = BigInt.asIntN(32, sum + (product >> shifts[e]!));
    }
    return sum;
  };
  const [a, b, c, d] = [element(0, 0), element(0, 1), element(1, 0), element(1, 1)];
  return !(b === 0n && c === 0n && a > 0n && d > 0n);
}

/** The audio fields of a sound sample entry and the offset of its child boxes. */
function audioLayout(
  data: Uint8Array,
  entry: Box,
  stsdVersion: number,
): { channelCount: number; children: number } | undefined {
  // reserved (6), data_reference_index (2), version (2), revision (2), vendor (4), channelcount (2),
  // samplesize (2), compression_id (2), packet_size (2), samplerate (4): 28 bytes.
  const version = u16(data, entry.body + 8);
  const channelCount = u16(data, entry.body + 16);
  // QuickTime sound descriptions grow with their version; ISO's AudioSampleEntryV1 (in a version 1 stsd) does not.
  // ffmpeg tells them apart the same way.
  if (version === 0 || (version === 1 && stsdVersion !== 0))
    return { channelCount, children: entry.body + 28 };
  if (stsdVersion !== 0) return undefined;
  if (version === 1) return { channelCount, children: entry.body + 28 + 16 };
  // Version 2: sizeOfStructOnly (4), audioSampleRate (8), numAudioChannels (4), … 36 bytes; the 16-bit field is 3.
  if (version === 2) return { channelCount: u32(data, entry.body + 40), children: entry.body + 28 + 36 };
  return undefined;
}

/** The first `esds` among `[from, to)`, looking inside QuickTime `wave` boxes too. */
function findEsds(data: Uint8Array, from: number, to: number): Box | undefined {
  for (const box of boxesIn(data, from, to)) {
    if (box.type === 'esds') return box;
    if (box.type === 'wave') {
      const inner = findEsds(data, box.body, box.end);
      if (inner) return inner;
    }
  }
  return undefined;
}

function parseTrak(data: Uint8Array, trak: Box, index: number, movieMatrix: Matrix): Mp4Track {
  const tkhd = childOf(data, trak, 'tkhd');
  const mdia = childOf(data, trak, 'mdia');
  const hdlr = mdia && childOf(data, mdia, 'hdlr');
  const minf = mdia && childOf(data, mdia, 'minf');
  const stbl = minf && childOf(data, minf, 'stbl');
  const stsd = stbl && childOf(data, stbl, 'stsd');
  if (!tkhd || !hdlr || !stsd) throw new Malformed();

  // hdlr: version/flags (4), pre_defined (QuickTime: component type) (4), handler_type (4)
  const handler = fourcc(data, hdlr.body + 8);
  const rotated = isRotated(matrixOf(data, tkhd, 40, 52), movieMatrix);
  // stsd: version/flags (4), entry_count (4), entries
  const stsdVersion = u8(data, stsd.body);
  const sampleEntryCount = u32(data, stsd.body + 4);
  const track: Mp4Track = { index, handler, sampleEntry: '', sampleEntryCount, rotated };
  if (sampleEntryCount === 0) return track;
  const entry = boxAt(data, stsd.body + 8, stsd.end);
  track.sampleEntry = entry.type;

  if (handler === 'vide' && entry.end - entry.body >= 78) {
    // VisualSampleEntry: reserved (6), data_reference_index (2), pre_defined/reserved (16), width (2), height (2).
    track.width = u16(data, entry.body + 24);
    track.height = u16(data, entry.body + 26);
  }
  if (handler === 'vide' && (entry.type === 'avc1' || entry.type === 'avc3')) {
    // VisualSampleEntry: 78 bytes of fixed fields (through depth and pre_defined), then boxes.
    const avcC = orUndefined(() => childOf(data, entry, 'avcC', entry.body + 78));
    const h264 = orUndefined(() => avcC && parseAvcC(data, avcC));
    if (h264) track.h264 = h264;
    // AVCDecoderConfigurationRecord: configurationVersion, profile, compatibility, level.
    if (avcC && avcC.end - avcC.body >= 4) track.levelIdc = u8(data, avcC.body + 3);
  } else if (handler === 'soun') {
    const layout = audioLayout(data, entry, stsdVersion);
    if (layout) {
      track.channelCount = layout.channelCount;
      if (entry.type === 'mp4a') {
        const aac = orUndefined(() => {
          const esds = findEsds(data, layout.children, entry.end);
          return esds && parseEsds(data.subarray(esds.body, esds.end));
        });
        if (aac) track.aac = aac;
      }
    }
  }
  return track;
}

/** An `mvhd`'s duration in seconds; `undefined` when it has no timescale or says "unknown" (all ones). */
function movieDuration(data: Uint8Array, mvhd: Box): number | undefined {
  // version/flags (4); version 0: creation (4), modification (4), timescale (4), duration (4); version 1: 8, 8, 4, 8.
  const version = u8(data, mvhd.body);
  const timescale = u32(data, mvhd.body + (version === 1 ? 20 : 12));
  const high = version === 1 ? u32(data, mvhd.body + 24) : 0;
  const low = u32(data, mvhd.body + (version === 1 ? 28 : 16));
  if (timescale === 0 || low === 0xffffffff) return undefined;
  return (high * 2 ** 32 + low) / timescale;
}

/**
 * Reads the tracks of a complete `moov` box (header included). `undefined` when it is malformed, has no `mvhd`
 * ahead of its tracks, or describes a fragmented file (`mvex`). Pure.
 */
export function parseMoov(moov: Uint8Array): Mp4Track[] | undefined {
  return orUndefined(() => {
    const root = boxAt(moov, 0, moov.length);
    if (root.type !== 'moov' || root.end !== moov.length) return undefined;
    let movieMatrix: Matrix | undefined;
    let movieDurationSeconds: number | undefined;
    const tracks: Mp4Track[] = [];
    for (const box of boxesIn(moov, root.body, root.end)) {
      if (box.type === 'mvex') return undefined;
      if (box.type === 'mvhd') {
        // ffmpeg combines each tkhd with the mvhd read before it: one, ahead of the tracks, is the only clear case.
        if (movieMatrix || tracks.length > 0) return undefined;
        movieMatrix = matrixOf(moov, box, 36, 48);
        movieDurationSeconds = movieDuration(moov, box);
      } else if (box.type === 'trak') {
        if (!movieMatrix) return undefined;
        tracks.push(parseTrak(moov, box, tracks.length, movieMatrix));
      }
    }
    if (movieDurationSeconds !== undefined)
      for (const track of tracks) track.movieDurationSeconds = movieDurationSeconds;
    return movieMatrix ? tracks : undefined;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the source

/** A source being read: its size, its first bytes, and further ranges on demand. */
interface Source {
  size: number;
  /** The first `min(WINDOW_BYTES, size)` bytes. */
  head: Uint8Array;
  /** Exactly `length` bytes at `offset`, or `undefined` when the source does not give them. */
  read(offset: number, length: number): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

async function openFile(path: string, signal: AbortSignal | undefined): Promise<Source | undefined> {
  const handle = await open(path, 'r');
  const read = async (offset: number, length: number) => {
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
      signal?.throwIfAborted();
      if (bytesRead === 0) return undefined;
      filled += bytesRead;
    }
    return bytes;
  };
  try {
    const info = await handle.stat();
    signal?.throwIfAborted();
    const head = info.isFile() ? await read(0, Math.min(WINDOW_BYTES, info.size)) : undefined;
    if (!head) {
      await handle.close();
      return undefined;
    }
    return { size: info.size, head, read, close: () => handle.close() };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Exactly `length` bytes of the response body, or `undefined` when it has more or fewer. */
async function readBody(response: Response, length: number): Promise<Uint8Array | undefined> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  const reader = response.body?.getReader();
  if (!reader) return length === 0 ? bytes : undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (filled + value.length > length) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    bytes.set(value, filled);
    filled += value.length;
  }
  return filled === length ? bytes : undefined;
}

/**
 * One range GET. Resolves the bytes and the object's total size only for a 206 whose Content-Range is the range
 * asked for (cut short only by the end of the object); anything else is cancelled unread.
 */
async function fetchRange(
  url: string,
  offset: number,
  length: number,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Uint8Array; total: number } | undefined> {
  const last = offset + length - 1;
  const response = await fetch(url, {
    // identity: a compressed answer would not be the bytes of the range.
    headers: { range: `bytes=${offset}-${last}`, 'accept-encoding': 'identity' },
    signal,
  });
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range')?.trim() ?? '');
  const [from, to, total] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [];
  if (
    response.status !== 206 ||
    from !== offset ||
    total === undefined ||
    to === undefined ||
    to !== Math.min(last, total - 1)
  ) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const bytes = await readBody(response, to - from + 1);
  return bytes && { bytes, total };
}

async function openUrl(url: string, signal: AbortSignal | undefined): Promise<Source | undefined> {
  const first = await fetchRange(url, 0, WINDOW_BYTES, signal);
  if (!first) return undefined;
  const size = first.total;
  return {
    size,
    head: first.bytes,
    async read(offset, length) {
      const answer = await fetchRange(url, offset, length, signal);
      return answer?.total === size ? answer.bytes : undefined;
    },
    close: async () => undefined,
  };
}

/** Printable ASCII, as every top-level box type in real files is (random bytes rarely are). */
function isPrintable(type: string): boolean {
  return /^[\x20-\x7e]{4}$/.test(type);
}

/** Reads a source through one window of at least `WINDOW_BYTES`, moved (one read) when a range falls outside it. */
function windowedReader(source: Source) {
  let window = { start: 0, bytes: source.head };
  return {
    /** Exactly `length` bytes at `offset` (a view into the window), or `undefined` when the source lacks them. */
    async bytesAt(offset: number, length: number): Promise<Uint8Array | undefined> {
      const local = offset - window.start;
      if (local < 0 || local + length > window.bytes.length) {
        const bytes = await source.read(
          offset,
          Math.min(Math.max(length, WINDOW_BYTES), source.size - offset),
        );
        if (!bytes || bytes.length < length) return undefined;
        window = { start: offset, bytes };
        return bytes.subarray(0, length);
      }
      return window.bytes.subarray(local, local + length);
    },
  };
}

type Reader = ReturnType<typeof windowedReader>;

/** Reads the header of the box at `offset`, which must end by `limit`; size 0 runs to `limit`. */
async function headerAt(reader: Reader, offset: number, limit: number): Promise<Box | undefined> {
  const header = await reader.bytesAt(offset, Math.min(16, limit - offset));
  if (!header || header.length < 8 || !isPrintable(fourcc(header, 4))) return undefined;
  const box = orUndefined(() => boxAt(header, 0, limit - offset));
  return box && { type: box.type, start: offset, body: offset + box.body, end: offset + box.end };
}

/** Containers on the way to what `parseMoov` reads, with the children each needs before the rest can be skipped. */
const PATH_BOXES: Readonly<Record<string, readonly string[]>> = {
  trak: ['tkhd', 'mdia'],
  mdia: ['hdlr', 'minf'],
  minf: ['stbl'],
  stbl: ['stsd'],
};
/** Boxes `parseMoov` reads whole; each is small (a header, or the sample descriptions). */
const LEAF_BOXES = new Set(['mvhd', 'tkhd', 'hdlr', 'stsd']);
/** Largest leaf box read (a `stsd` with many or large sample descriptions is suspicious anyway). */
const MAX_LEAF_BYTES = 1024 * 1024;
/**
 * Most box headers looked at inside `moov` (about ten per track): a crafted index of millions of tiny boxes is left
 * to ffprobe rather than walked here.
 */
const MAX_INDEX_BOXES = 1024;

function encodeBox(type: string, children: readonly Uint8Array[]): Uint8Array {
  const size = children.reduce((sum, child) => sum + child.length, 8);
  const box = new Uint8Array(size);
  new DataView(box.buffer).setUint32(0, size);
  for (let i = 0; i < 4; i += 1) box[4 + i] = type.charCodeAt(i);
  let at = 8;
  for (const child of children) {
    box.set(child, at);
    at += child.length;
  }
  return box;
}

/**
 * The children of the box `parent` that `parseMoov` reads, copied (leaves) or rebuilt (containers), skipping
 * everything else — above all the sample tables, which are nearly all of an hour-long file's `moov`. Below `moov`,
 * a container's walk stops once it has met the children it needs (`parseMoov` reads the first of each type).
 */
async function pruneChildren(
  reader: Reader,
  parent: Box,
  budget = { boxes: MAX_INDEX_BOXES },
): Promise<Uint8Array[] | undefined> {
  const needed = new Set(PATH_BOXES[parent.type] ?? []);
  const parts: Uint8Array[] = [];
  let at = parent.body;
  while (parent.end - at >= 8) {
    budget.boxes -= 1;
    if (budget.boxes < 0) return undefined;
    const box = await headerAt(reader, at, parent.end);
    if (!box) return undefined;
    if (Object.hasOwn(PATH_BOXES, box.type)) {
      const children = await pruneChildren(reader, box, budget);
      if (!children) return undefined;
      parts.push(encodeBox(box.type, children));
    } else if (LEAF_BOXES.has(box.type)) {
      if (box.end - box.start > MAX_LEAF_BYTES) return undefined;
      const bytes = await reader.bytesAt(box.start, box.end - box.start);
      if (!bytes) return undefined;
      parts.push(bytes.slice());
    } else if (box.type === 'mvex') {
      // Only its presence matters: it marks a fragmented file.
      parts.push(encodeBox('mvex', []));
    }
    needed.delete(box.type);
    if (parent.type !== 'moov' && needed.size === 0) break;
    at = box.end;
  }
  return parts;
}

/**
 * Walks the top-level boxes to `moov`, then reads of it only the boxes `parseMoov` needs, and parses those. Each
 * header or box beyond what has been read costs one read of at least `WINDOW_BYTES` at its offset: a faststart
 * file usually takes one read per track beyond the first window, whatever its length.
 */
async function findTracks(source: Source, maxIndexBytes: number): Promise<Mp4Track[] | undefined> {
  const reader = windowedReader(source);
  let offset = 0;
  for (let hops = 0; hops <= MAX_HOPS; hops += 1) {
    if (source.size - offset < 8) return undefined;
    const box = await headerAt(reader, offset, source.size);
    if (!box || (hops === 0 && !FIRST_BOXES.has(box.type)) || box.type === 'moof') return undefined;
    if (box.type === 'moov') {
      if (box.end - box.start > maxIndexBytes) return undefined;
      const children = await pruneChildren(reader, box);
      return children && parseMoov(encodeBox('moov', children));
    }
    offset = box.end;
  }
  return undefined;
}

/**
 * Resolves the tracks of `moov`, in file order, or `undefined` when the input is not an MP4/MOV whose `moov` can be
 * found and read within the limits: not ISO-BMFF, no `moov`, a fragmented file (`moof`, or `mvex` in `moov`), a
 * range request not answered with 206, truncated boxes, more than 16 hops between top-level boxes, anything
 * unexpected. Never throws for bad input or I/O errors (only rejects with the signal's reason when aborted).
 *
 * `source` is a local path or an http(s) URL (a presigned GET), read with Range requests of 64 KiB. Of `moov` only
 * the box headers on the way to `mvhd` and each track's `tkhd`, `hdlr` and `stsd` are read, never the sample
 * tables: a faststart file costs one request per track beyond the first window, as much for an hour as for a
 * minute; one with `moov` at the end one more. The media data is never downloaded.
 *
 * @example
 * const tracks = await readMp4Tracks(presignedUrl, { signal });
 * const h264 = tracks?.[0]?.h264; // undefined: not H.264 in track 0, or can't tell
 * const upright420 = h264?.chromaFormatIdc === 1 && h264.bitDepthLuma === 8 && tracks?.[0]?.rotated === false;
 */
export async function readMp4Tracks(
  source: string,
  options: ReadMp4TracksOptions = {},
): Promise<Mp4Track[] | undefined> {
  const { signal } = options;
  signal?.throwIfAborted();
  let opened: Source | undefined;
  try {
    opened = /^https?:\/\//i.test(source) ? await openUrl(source, signal) : await openFile(source, signal);
    if (!opened) return undefined;
    return await findTracks(opened, options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES);
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  } finally {
    await opened?.close().catch(() => undefined);
  }
}
