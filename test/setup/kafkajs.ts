// Test files import kafkajs themselves (helpers, independent readers), some before any module of src/: the fix of
// kafkajs's aborted-transaction filter (src/kafka/kafkajs/aborted.ts) must be in place before kafkajs loads.
import '../../src/kafka/kafkajs/aborted.js';
