/** Types of scripts/footprint.js for the tests that use it. */
export interface InstalledPackage {
  readonly tarball: string;
  readonly files: string[];
  readonly packedBytes: number;
  readonly app: string;
  readonly peers: string[];
}
export interface Footprint {
  readonly bytes: number;
  readonly packages: Array<{ readonly name: string; readonly bytes: number }>;
}
export function packAndInstall(work: string): InstalledPackage;
export function measure(app: string, peers: string[]): Footprint;
export const LIMIT_MB: number;
export const MB: number;
