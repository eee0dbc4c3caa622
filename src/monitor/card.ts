/** The figures of a model card the live ones are compared with (walk-forward averages where the card has them). */
export interface CardFigures {
  readonly calibrationError?: number;
  readonly rocAuc?: number;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Reads a card (metrics.json): 2.x cards carry walk-forward averages per calibration and the chosen one
 * (walk_forward.choice.calibration); 1.x cards a single test period (success.model.roc_auc, no calibration error).
 */
export function cardFigures(card: unknown): CardFigures {
  const wf = obj(obj(card)?.['walk_forward']);
  if (wf !== undefined) {
    const choice = obj(wf['choice'])?.['calibration'];
    const model = obj(obj(obj(wf['average'])?.['model'])?.[typeof choice === 'string' ? choice : 'none']);
    return { ...(num(model?.['ece']) === undefined ? {} : { calibrationError: num(model?.['ece']) }), ...(num(model?.['roc_auc']) === undefined ? {} : { rocAuc: num(model?.['roc_auc']) }) };
  }
  const auc = num(obj(obj(obj(card)?.['success'])?.['model'])?.['roc_auc']);
  return auc === undefined ? {} : { rocAuc: auc };
}
