/** `segments` (SPEC 8, definition 10): records grouped by `fields.<FIELD>`. */
import { count, num, type Queries } from '../sql.js';
import type { Segment } from '../types.js';
import { metricsOf, type LabelData } from './labels.js';

export async function segmentsSection(db: Queries, data: LabelData): Promise<Record<string, Segment>> {
  // Largest segments first; the text and HTML renderings keep this order.
  const segs = await db.rows(`SELECT seg, count(*) AS n,
      avg(CASE WHEN c_dec = h_dec THEN 1.0 ELSE 0.0 END)
        FILTER (WHERE c_score IS NOT NULL AND h_score IS NOT NULL AND c_dec IS NOT NULL AND h_dec IS NOT NULL) AS agreement
    FROM rec GROUP BY seg ORDER BY n DESC, seg`);
  // Segment values come from the records: `__proto__` is an ordinary one.
  const out: Record<string, Segment> = Object.create(null);
  for (const s of segs) {
    const value = String(s.seg);
    const mine = (c: { seg: string | null }) => c.seg === value;
    out[value] = {
      n: count(s.n),
      agreement: num(s.agreement),
      champion: metricsOf(data, `seg:${value}`, 'champion', mine),
      challenger: metricsOf(data, `seg:${value}`, 'challenger', mine),
    };
  }
  return out;
}
