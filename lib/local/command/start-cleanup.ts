import * as fs from 'fs';

/**
 * Runs `start`; when it fails, removes `dir` (the folder `keygate local` synthesized the app
 * into, in the temp directory) before the error goes on. `undefined`: nothing to remove.
 */
export async function removeOnFailure<T>(dir: string | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
