import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ScorerError } from '../errors.js';
import { isMissingFile } from '../files/index.js';

const count = z.number().int().nonnegative();

/** Progress of a file backfill after a chunk: a complete prefix of the input, and the output bytes that hold it. */
const checkpointSchema = z.object({ rowsDone: count, outputBytes: count, rejectsBytes: count, scored: count, rejected: count }).strict();

export type Checkpoint = z.infer<typeof checkpointSchema>;

/**
 * The checkpoint at `path`: undefined when there is none (nothing to resume). A file that cannot be read or is not
 * a checkpoint is an error naming it: resuming from a guessed position would duplicate or skip rows.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (isMissingFile(cause)) return undefined;
    throw new ScorerError('CHECKPOINT_INVALID', `cannot read the checkpoint ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ScorerError('CHECKPOINT_INVALID', `the checkpoint ${path} is not JSON (delete it and the partial output to start over)`, { cause });
  }
  const parsed = checkpointSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new ScorerError('CHECKPOINT_INVALID', `the checkpoint ${path} is invalid: ${problems}`);
  }
  return parsed.data;
}

/** Written whole or not at all (write, then rename), so a crash mid-write leaves the previous checkpoint. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, JSON.stringify(checkpoint));
  await rename(temp, path);
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}
