/** S3's hard limit for the lifetime of a presigned URL (SigV4: 7 days); local signed storage keeps the same. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
