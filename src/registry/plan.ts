/** What promoting a tag should do, given the source digest and what the destination tag holds now. */
export type PromotionPlan =
  | { action: 'put'; outcome: 'promoted' }
  | { action: 'put'; outcome: 'moved'; previousDigest: string }
  | { action: 'noop'; outcome: 'unchanged' }
  | { action: 'refuse'; existingDigest: string };

/**
 * Release tags are immutable unless forced: a destination that already holds another digest is refused, one that
 * already holds the source digest needs nothing, an absent one is written.
 */
export function planPromotion(
  source: { digest: string },
  existingDestination: { digest: string } | null,
  force: boolean,
): PromotionPlan {
  if (existingDestination === null) return { action: 'put', outcome: 'promoted' };
  if (existingDestination.digest === source.digest) return { action: 'noop', outcome: 'unchanged' };
  if (force) return { action: 'put', outcome: 'moved', previousDigest: existingDestination.digest };
  return { action: 'refuse', existingDigest: existingDestination.digest };
}
