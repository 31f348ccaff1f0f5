import type { ModelConfig } from '../config/config.js';
import { FileError } from '../errors.js';
import type { Suite } from '../suite/load.js';

/** The model a judge reference names: by id, else by `provider:model`. */
export function findJudge(models: readonly ModelConfig[], ref: string): ModelConfig | undefined {
  return models.find((x) => x.id === ref) ?? models.find((x) => `${x.provider}:${x.model}` === ref);
}

/**
 * Every model a judge grader names is in the config, checked before anything is sent: a judge
 * that cannot be called would fail every case it grades.
 */
export function checkJudges(suites: readonly Suite[], models: readonly ModelConfig[]): void {
  for (const s of suites) {
    for (const j of s.judges) {
      if (findJudge(models, j.ref)) continue;
      throw new FileError(
        s.file,
        j.line,
        `grader judge: '${j.ref}' is not a model in the config (add it to models:, with judgeOnly: true to keep it out of the results; ids: ${models.map((m) => m.id).join(', ')})`,
      );
    }
  }
}
