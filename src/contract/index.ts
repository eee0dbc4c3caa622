export { type Opportunity, deriveEventId } from './opportunity.js';
export { type Problem, type ProblemCode, type ValidationResult, validateOpportunity } from './validate.js';
export { type ScoredOpportunity, type Scores, type SourcePosition, type Verdict, scoredOpportunity, scoredToJson, type ScoredJson } from './scored.js';
export { avroType, opportunitySchema, opportunityType, outcomeSchema, outcomeType, scoredOpportunitySchema, scoredOpportunityType } from './schemas.js';
export { type Outcome, type OutcomeValidation, outcomeToJson, validateOutcome } from './outcome.js';
