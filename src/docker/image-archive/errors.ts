/** A server image cannot be assembled: no base for the platform, an unsafe export, no place for the binary. */
export class ImageArchiveError extends Error {}
