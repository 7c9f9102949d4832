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
export const README: string;
/** The README's wording of the figures: `**X.XX MB** (tarball Y.YY MB)`. */
export function figuresText(bytes: number, packedBytes: number): string;
/** The figures between README's `<!-- footprint -->` markers. */
export function readmeFigures(text: string): string;
export function withReadmeFigures(text: string, figures: string): string;
