/** `latency`: the completion arrived within `max_ms`. Measured by the runner, not the model. */
import { grade, GraderOptionError } from './grader.js';
import { errorGrade, optNumber, type BuiltinGrader } from './builtin.js';

export const latency: BuiltinGrader = {
  type: 'latency',
  description: 'Completion latency is at most max_ms milliseconds.',
  options: ['max_ms'],
  create(options) {
    const maxMs = optNumber(options, 'max_ms', { above: 0 });
    if (maxMs === undefined) throw new GraderOptionError('`max_ms` is required', 'max_ms');
    return (_output, ctx) => {
      const ms = ctx.completion?.latencyMs;
      // Without a measurement we cannot say it was fast enough; an error is not a silent pass.
      if (ms === undefined || !Number.isFinite(ms)) return errorGrade('no latency measured for this completion');
      const passed = ms <= maxMs;
      return grade(passed ? 1 : 0, passed, `${Math.round(ms)} ms ${passed ? '<=' : '>'} ${maxMs} ms`, String(ms));
    };
  },
};
