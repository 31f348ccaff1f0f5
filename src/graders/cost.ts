/** `cost`: the completion cost at most `max_usd`, as priced by the runner from token counts. */
import { grade, GraderOptionError } from './grader.js';
import { errorGrade, optNumber, type BuiltinGrader } from './builtin.js';

export const cost: BuiltinGrader = {
  type: 'cost',
  description: 'Completion cost is at most max_usd US dollars.',
  options: ['max_usd'],
  create(options) {
    const maxUsd = optNumber(options, 'max_usd', { min: 0 });
    if (maxUsd === undefined) throw new GraderOptionError('`max_usd` is required', 'max_usd');
    return (_output, ctx) => {
      const usd = ctx.completion?.costUsd;
      // No price (unknown model, server reported no tokens): we cannot vouch for the budget.
      if (usd === undefined || !Number.isFinite(usd))
        return errorGrade('no cost known for this completion (missing token counts or price)');
      const passed = usd <= maxUsd;
      return grade(passed ? 1 : 0, passed, `$${usd.toFixed(6)} ${passed ? '<=' : '>'} $${maxUsd}`, String(usd));
    };
  },
};
