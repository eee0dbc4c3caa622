/** JSON Schemas of the HTTP API, used for the OpenAPI document and fast response serialisation. */

const nullableNumber = { type: ['number', 'null'] } as const;
const timestamp = {
  anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }],
  description: 'ISO-8601 date-time or UTC epoch milliseconds',
} as const;

export const opportunityRequestSchema = {
  $id: 'OpportunityRequest',
  type: 'object',
  description: 'An opportunity, as the Flask API took it (camelCase). Units and definitions: docs/codecs.md.',
  required: [
    'symbol',
    'longExchange',
    'shortExchange',
    'longFundingRate',
    'shortFundingRate',
    'longFundingIntervalHours',
    'shortFundingIntervalHours',
    'longNextFundingTime',
    'shortNextFundingTime',
    'detectedAt',
    'fundProfit8h',
    'fundApr',
  ],
  properties: {
    id: { type: 'string', description: 'Optional id of the opportunity' },
    correlationId: { type: 'string', description: 'Echoed as correlation_id (the x-correlation-id header works too)' },
    symbol: { type: 'string', example: 'BTCUSDT' },
    longExchange: { type: 'string', example: 'Bybit' },
    shortExchange: { type: 'string', example: 'Binance' },
    longFundingRate: { type: 'number', description: 'fraction per funding interval', example: -0.001 },
    shortFundingRate: { type: 'number', description: 'fraction per funding interval', example: 0.002 },
    longFundingIntervalHours: { type: 'number', example: 8 },
    shortFundingIntervalHours: { type: 'number', example: 8 },
    longNextFundingTime: timestamp,
    shortNextFundingTime: timestamp,
    detectedAt: timestamp,
    fundProfit8h: { type: 'number', description: '% of notional per 8 h at current rates' },
    fundApr: { type: 'number', description: '% per year' },
    volume24h: nullableNumber,
    currentPriceSpreadPercent: nullableNumber,
    fundProfit8h24hProj: nullableNumber,
    fundApr24hProj: nullableNumber,
    priceSpread24hAvg: nullableNumber,
    priceSpread3dAvg: nullableNumber,
  },
} as const;

export const predictionSchema = {
  $id: 'Prediction',
  type: 'object',
  required: ['predicted_profit_percent', 'success_probability', 'predicted_duration_hours', 'composite_score', 'rank_score', 'take', 'model_version', 'latency_ms'],
  properties: {
    predicted_profit_percent: { type: 'number', description: 'Expected net profit, % of notional' },
    success_probability: { type: 'number', description: 'Probability the trade is profitable (0–1)' },
    predicted_duration_hours: { type: 'number', description: 'Suggested hold, hours' },
    composite_score: { type: 'number', description: 'success_probability × predicted_profit_percent (do not rank by it: it ranks losing trades backwards)' },
    rank_score: { type: 'number', description: "The score to rank opportunities by: the output the bundle's decision names (2.0.0: success_probability)" },
    take: { type: 'boolean', description: "rank_score ≥ the bundle's walk-forward-chosen threshold; always false when the bundle has no threshold that made money" },
    model_version: { type: 'string', description: '<bundle>@<version> that produced all these numbers' },
    latency_ms: { type: 'number', description: 'Time spent serving the request' },
    correlation_id: { type: 'string' },
  },
} as const;

export const errorSchema = {
  $id: 'ErrorResponse',
  type: 'object',
  required: ['detail'],
  properties: {
    detail: {
      type: 'array',
      items: {
        type: 'object',
        required: ['loc', 'msg', 'type'],
        properties: {
          loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
          msg: { type: 'string' },
          type: { type: 'string' },
        },
      },
    },
  },
} as const;

export const errorResponses = {
  400: { $ref: 'ErrorResponse#', description: 'Malformed or too deeply nested JSON' },
  413: { $ref: 'ErrorResponse#', description: 'Body or batch too large' },
  415: { $ref: 'ErrorResponse#', description: 'Content-Type is not application/json' },
  422: { $ref: 'ErrorResponse#', description: 'Every missing or invalid field' },
  503: { $ref: 'ErrorResponse#', description: 'No model loaded, draining or overloaded (see Retry-After)' },
} as const;

export const modelSummarySchema = {
  $id: 'ModelSummary',
  type: 'object',
  required: ['name', 'version', 'created_at', 'feature_hash', 'feature_count'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    alias: { type: 'string' },
    role: { type: 'string', enum: ['primary', 'canary', 'shadow'] },
    share_percent: { type: 'number', description: 'Share of events this bundle answers (shadow: 0, it only observes)' },
    created_at: { type: 'string' },
    feature_hash: { type: 'string' },
    feature_count: { type: 'integer' },
    trees: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;

export const modelsResponseSchema = {
  $id: 'ModelsResponse',
  type: 'object',
  required: ['models', 'aliases', 'shadow'],
  properties: {
    models: { type: 'array', items: { $ref: 'ModelSummary#' } },
    count: { type: 'integer', description: 'Models listed (after experiment_name and limit)' },
    aliases: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'string' } } },
    shadow: { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' }, model: { type: 'string' } } },
  },
} as const;

/** The feature-vector bodies of the servers this replaces (001, 004, 002); features in docs/features.md order and names. */
export const featureRequestSchema = {
  $id: 'FeatureRequest',
  type: 'object',
  required: ['features'],
  properties: {
    features: {
      description: '001: an array of the 57 features in order; 004: named columns {"<feature>": [values…]} (N rows); 002: one named record {"<feature>": value}. null is a missing value.',
      anyOf: [{ type: 'array', items: { type: ['number', 'null'] } }, { type: 'object', additionalProperties: true }],
    },
    symbol: { type: 'string', description: '001: echoed in the answer' },
    model_version: { type: 'string', description: '001: "latest", a version or an alias of a loaded bundle' },
    model_name: { type: 'string', description: '004: a loaded bundle name, optionally @version or @alias' },
    model_uri: { type: 'string', description: '002: models:/<name>/<version> or models:/<name>@<alias> of a loaded bundle' },
    correlation_id: { type: 'string', description: '004: echoed in the answer' },
    return_proba: { type: 'boolean', description: '002: include class probabilities (default true)' },
  },
} as const;

export const reloadResponseSchema = {
  $id: 'ReloadResponse',
  type: 'object',
  required: ['result', 'serving'],
  properties: {
    result: { type: 'string', enum: ['swapped', 'unchanged'] },
    serving: { type: 'array', items: { type: 'string' }, description: '<bundle>@<version> per role' },
    previous: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const modelDetailSchema = {
  $id: 'ModelDetail',
  type: 'object',
  required: ['name', 'version', 'feature_names', 'metrics'],
  properties: {
    ...modelSummarySchema.properties,
    feature_names: { type: 'array', items: { type: 'string' } },
    metrics: { type: 'object', additionalProperties: true, description: 'Test-period metrics from the model card' },
  },
} as const;
