/** The group protocol name of the co-partitioned assignment, the same with both clients. */
export const COPARTITIONED_PROTOCOL = 'opportunity-scorer-copartitioned';

/**
 * Partition number i of every topic goes to the same member (members sorted, i round-robin over them), so a
 * consumer that joins two topics keyed alike sees both sides of each key. A topic with fewer partitions simply
 * has no partition i for the higher numbers; the monitor refuses to start on unequal counts.
 */
export function copartitionedAssignment(memberIds: readonly string[], partitionCounts: ReadonlyMap<string, number>): Map<string, Map<string, number[]>> {
  const members = [...memberIds].sort();
  const out = new Map<string, Map<string, number[]>>(members.map((m) => [m, new Map()]));
  if (members.length === 0) return out;
  for (const [topic, count] of [...partitionCounts].sort(([a], [b]) => a.localeCompare(b))) {
    for (let p = 0; p < count; p++) {
      const member = out.get(members[p % members.length] as string) as Map<string, number[]>;
      const list = member.get(topic) ?? [];
      list.push(p);
      member.set(topic, list);
    }
  }
  return out;
}
