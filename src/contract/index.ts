export { type Opportunity, deriveEventId } from './opportunity.js';
export { type Problem, type ProblemCode, type ValidationResult, validateOpportunity } from './validate.js';
export { type ScoredOpportunity, type Scores, type SourcePosition, type Verdict, scoredOpportunity, scoredToJson } from './scored.js';
export { avroType, opportunitySchema, opportunityType, scoredOpportunitySchema, scoredOpportunityType } from './schemas.js';
