/** A validated opportunity: every timestamp is UTC epoch milliseconds, every number finite. */
export interface Opportunity {
  readonly id: string | null;
  readonly symbol: string;
  readonly longExchange: string;
  readonly shortExchange: string;
  readonly longFundingRate: number;
  readonly shortFundingRate: number;
  readonly longFundingIntervalHours: number;
  readonly shortFundingIntervalHours: number;
  readonly longNextFundingTime: number;
  readonly shortNextFundingTime: number;
  readonly detectedAt: number;
  readonly fundProfit8h: number;
  readonly fundApr: number;
  readonly volume24h: number | null;
  readonly currentPriceSpreadPercent: number | null;
  readonly fundProfit8h24hProj: number | null;
  readonly fundApr24hProj: number | null;
  readonly priceSpread24hAvg: number | null;
  readonly priceSpread3dAvg: number | null;
}

/** Id for an event that arrived on Kafka without one: unique per record and stable across re-deliveries. */
export function deriveEventId(topic: string, partition: number, offset: string | number): string {
  return `${topic}-${partition}-${offset}`;
}
