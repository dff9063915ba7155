/**
 * Recognises a media container from the first bytes of a file, without ffprobe: the quick check an upload's
 * completion makes on a ranged read of the object, so a text file named `.mp4` is refused at once instead of when
 * someone first presses play. A match says only "this is a container ffmpeg reads"; generation still probes the
 * whole file (a recognised container may hold no video, or be cut short).
 */

/** How many leading bytes `detectContainer` wants (fewer is fine for a shorter file). */
export const SIGNATURE_BYTES = 4096;

/** The containers recognised from their first bytes. */
export const ContainerKind = {
  /** ISO base media (MP4, MOV, M4V, 3GP, fragmented MP4). */
  IsoBmff: 'iso-bmff',
  /** EBML: Matroska and WebM. */
  Matroska: 'matroska',
  /** MPEG transport stream (188-byte packets, or 192 bytes for M2TS). */
  MpegTs: 'mpeg-ts',
  /** MPEG program stream (VOB, MPG). */
  MpegPs: 'mpeg-ps',
  /** RIFF AVI (and WAV audio). */
  Riff: 'riff',
  Flv: 'flv',
  Ogg: 'ogg',
  /** ASF: WMV and WMA. */
  Asf: 'asf',
  Mxf: 'mxf',
  /** Audio files ffmpeg reads (MP3, AAC in ADTS, FLAC): generation makes audio-only streams of them. */
  Audio: 'audio',
} as const;
export type ContainerKind = (typeof ContainerKind)[keyof typeof ContainerKind];

const ascii = (bytes: Uint8Array, at: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(at, at + length));

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

/** Box types that may open an ISO base media file (`ftyp` usually; older QuickTime files start elsewhere). */
const ISO_FIRST_BOXES: ReadonlySet<string> = new Set([
  'ftyp',
  'styp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'pnot',
  'uuid',
  'sidx',
  'moof',
]);

function isIsoBmff(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  // 0 = "to the end of the file", 1 = a 64-bit size follows; otherwise at least the 8-byte header.
  const sizeFits = size === 0 || size === 1 || size >= 8;
  return sizeFits && ISO_FIRST_BOXES.has(ascii(bytes, 4, 4));
}

/** Sync bytes at every packet start we can see (at least two packets' worth, or the whole of a shorter file). */
function isTransportStream(bytes: Uint8Array, packet: number, offset: number): boolean {
  const starts: number[] = [];
  for (let at = offset; at < bytes.length && starts.length < 5; at += packet) starts.push(at);
  return starts.length >= 2 && starts.every((at) => bytes[at] === 0x47);
}

function isMp3(bytes: Uint8Array): boolean {
  if (ascii(bytes, 0, 3) === 'ID3') return true;
  // An MPEG audio frame header: 11 sync bits, a valid layer (not 00) and a bitrate index that is not 1111.
  return (
    bytes.length >= 4 &&
    bytes[0] === 0xff &&
    (bytes[1]! & 0xe0) === 0xe0 &&
    (bytes[1]! & 0x06) !== 0 &&
    (bytes[2]! & 0xf0) !== 0xf0
  );
}

/**
 * The container whose signature `bytes` (the first bytes of a file, ideally `SIGNATURE_BYTES` of them) starts
 * with, or `undefined` when none matches (text, an image, random bytes, an empty file).
 * @example
 * detectContainer(await storage.readHead(key, SIGNATURE_BYTES)) // 'iso-bmff' for an MP4
 */
export function detectContainer(bytes: Uint8Array): ContainerKind | undefined {
  if (isIsoBmff(bytes)) return ContainerKind.IsoBmff;
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return ContainerKind.Matroska;
  if (isTransportStream(bytes, 188, 0)) return ContainerKind.MpegTs;
  if (isTransportStream(bytes, 192, 4)) return ContainerKind.MpegTs;
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0xba])) return ContainerKind.MpegPs;
  if (ascii(bytes, 0, 4) === 'RIFF' && ['AVI ', 'WAVE'].includes(ascii(bytes, 8, 4)))
    return ContainerKind.Riff;
  if (ascii(bytes, 0, 3) === 'FLV' && bytes[3] === 0x01) return ContainerKind.Flv;
  if (ascii(bytes, 0, 4) === 'OggS') return ContainerKind.Ogg;
  if (startsWith(bytes, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return ContainerKind.Asf;
  if (startsWith(bytes, [0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01])) return ContainerKind.Mxf;
  if (ascii(bytes, 0, 4) === 'fLaC' || isMp3(bytes)) return ContainerKind.Audio;
  // ADTS AAC: 12 sync bits, layer 00.
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xf6) === 0xf0) return ContainerKind.Audio;
  return undefined;
}

/** A short readable description of what the bytes look like instead, for the refusal's message. */
export function describeUnrecognised(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const sample = bytes.subarray(0, 512);
  const printable = sample.filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)).length;
  if (printable / sample.length > 0.95) return 'it looks like text';
  if (startsWith(bytes, [0xff, 0xd8, 0xff]) || startsWith(bytes, [0x89, 0x50, 0x4e, 0x47]))
    return 'it looks like an image';
  if (ascii(bytes, 0, 4) === '%PDF') return 'it looks like a PDF document';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'it looks like a ZIP archive';
  return 'its first bytes match no video container';
}
