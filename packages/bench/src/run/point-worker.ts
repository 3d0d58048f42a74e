// A piscina task: one sweep point in a pool worker (sim-host points, which need no threads of their own).
import { type PointResult, type PointTask, runPoint } from './point.ts';

export default function task(point: PointTask): Promise<PointResult> {
  return runPoint(point);
}
