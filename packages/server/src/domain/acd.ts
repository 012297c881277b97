/**
 * Automatic call distribution policy: which ready agent gets the next call of a queue. Pure: candidates and
 * time come in, a choice comes out. The default serves the agent who has been idle longest; others (skills
 * levels, round robin) implement the same interface.
 */
export interface AcdCandidate {
  readonly agentId: string;
  /** Epoch ms since the agent is ready. */
  readonly idleSince: number;
}

export interface AcdPolicy {
  readonly name: string;
  /** The agent to offer the call to, or undefined when no candidate fits. `excluded` already rang for this call. */
  pick(candidates: readonly AcdCandidate[], excluded: ReadonlySet<string>): AcdCandidate | undefined;
}

export const longestIdlePolicy: AcdPolicy = {
  name: 'longest-idle',
  pick(candidates, excluded) {
    let best: AcdCandidate | undefined;
    for (const candidate of candidates) {
      if (excluded.has(candidate.agentId)) continue;
      // Ties go to the smaller agent id, so the choice never depends on iteration order.
      if (
        !best ||
        candidate.idleSince < best.idleSince ||
        (candidate.idleSince === best.idleSince && candidate.agentId < best.agentId)
      ) {
        best = candidate;
      }
    }
    return best;
  },
};
