export { type LedgerEntry, type LedgerReport, type ReadOptions, ledgerId, ledgerReport, readTopics } from './ledger.js';
