/** The standard plane of a series from its instances' orientations (core/geometry decides each instance). */
import { type PlaneDecision, type StandardPlane, standardPlane } from '../geometry/orientation.ts';

export interface PlaneCounts {
  counts: Map<StandardPlane, number>;
  /** Reason of the first instance of each plane (angle from the axis). */
  reasons: Map<StandardPlane, string>;
  missing: number;
  /** The last orientation decided and its decision: the slices of a series share one (no work per slice). */
  last?: { orientation: readonly number[]; toleranceDegrees: number; decision: PlaneDecision | undefined };
}

export function orientationOf(planes: PlaneCounts): { plane: StandardPlane | 'MIXED' | null; reason: string } {
  const total = [...planes.counts.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return { plane: null, reason: 'no ImageOrientationPatient' };
  const missing = planes.missing ? `; ${planes.missing} instance(s) without ImageOrientationPatient` : '';
  if (planes.counts.size === 1) {
    const [plane] = [...planes.counts.keys()] as [StandardPlane];
    return {
      plane,
      reason: `${total === 1 ? 'the instance' : `all ${total} instances`}: ${planes.reasons.get(plane)}${missing}`,
    };
  }
  const parts = [...planes.counts.entries()].map(([plane, count]) => `${plane} ${count}`);
  return { plane: 'MIXED', reason: `instances in several planes (${parts.join(', ')})${missing}` };
}

export function addPlane(planes: PlaneCounts, orientation: readonly number[], toleranceDegrees: number): void {
  const last = planes.last;
  let decision: PlaneDecision | undefined;
  if (last && last.toleranceDegrees === toleranceDegrees && sameNumbers(last.orientation, orientation))
    decision = last.decision;
  else {
    decision = standardPlane(orientation, toleranceDegrees);
    planes.last = { orientation, toleranceDegrees, decision };
  }
  if (!decision) {
    planes.missing++;
    return;
  }
  planes.counts.set(decision.plane, (planes.counts.get(decision.plane) ?? 0) + 1);
  if (!planes.reasons.has(decision.plane)) planes.reasons.set(decision.plane, decision.reason);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
