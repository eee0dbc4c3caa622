import { Command, Option } from 'commander';
import { type AppConfig, loadConfig, redactedConfig } from '../config/index.js';
import { findScorerError } from '../errors.js';
import { type LifecycleView, ShutdownSignals } from '../lifecycle/index.js';
import { createLogger, type Logger } from '../logging/index.js';
import type { ScorerService, ServiceMode } from '../service/index.js';
import type { BackfillCommandOptions } from './backfill-command.js';
import type { LedgerCommandOptions } from './ledger-command.js';
import type { OutcomesReplayOptions } from './outcomes-command.js';
import type { ReplayCommandOptions } from './replay-command.js';
import { readPackageVersion } from './version.js';

/**
 * The composition root: the only module that reads process.env, argv and the terminal. Everything below it is
 * handed typed config and collaborators. Each command imports what it runs when it runs: a file backfill or
 * `config check` starts without loading the Kafka clients and the HTTP server.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name('opportunity-scorer')
    .description('Scores funding-rate arbitrage opportunities with ONNX models, from Kafka or over HTTP.')
    .version(readPackageVersion())
    .addOption(new Option('--config <file>', 'JSON config file (same keys as the environment variables)').env('CONFIG_FILE'))
    .showHelpAfterError()
    .exitOverride();

  let exitCode = 0;
  const context = (): { config: AppConfig; logger: Logger } => {
    const opts = program.opts<{ config?: string }>();
    const config = loadConfig({ env: process.env, file: opts.config });
    const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY === true);
    return { config, logger: createLogger({ level: config.log.level, pretty }) };
  };

  const configCmd = program.command('config').description('Inspect the configuration');
  configCmd
    .command('check')
    .description('Validate the configuration; exit non-zero listing every bad key')
    .action(() => {
      context();
      process.stdout.write('configuration is valid\n');
    });
  configCmd
    .command('print')
    .description('Print the effective configuration as JSON (secrets redacted)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(redactedConfig(context().config), null, 2)}\n`);
    });

  program
    .command('topics')
    .description('Manage the service topics')
    .command('create')
    .description("Create the input, output and dead-letter topics, and the monitor's, that do not exist yet (for local use)")
    .option('--partitions <n>', 'partitions per created topic (default: TOPIC_PARTITIONS)', (v) => Number.parseInt(v, 10))
    .action(async (opts: { partitions?: number }) => {
      const { config, logger } = context();
      const { createKafkaPort, ensureTopics } = await import('../kafka/index.js');
      const admin = await createKafkaPort(config.kafka, logger).admin();
      try {
        const partitions = opts.partitions ?? config.topics.partitions;
        const { outcomesTopic, evaluatedTopic, deadLetterTopic } = config.monitor;
        const topics = [...config.topics.input, config.topics.output, config.topics.deadLetter, outcomesTopic, evaluatedTopic, deadLetterTopic];
        const created = await ensureTopics(admin, topics.map((topic) => ({ topic, partitions })));
        logger.info({ created, existing: topics.filter((t) => !created.includes(t)) }, 'topics ready');
      } finally {
        await admin.close();
      }
    });

  // The one signal handler of every long-running command: see ShutdownSignals.
  const shutdownSignals = (logger: Logger, graceMs: number | undefined, onHangup?: () => void): ShutdownSignals =>
    new ShutdownSignals(process, { logger, graceMs, exit: (code) => process.exit(code), onHangup });

  // A service until a signal or its own failure: it drains, and the exit code says whether it failed.
  const untilStopped = async (logger: Logger, graceMs: number, start: () => Promise<RunningService>, onHangup?: () => void): Promise<number> => {
    const signals = shutdownSignals(logger, graceMs, onHangup);
    try {
      const service = await start();
      signals.begin(await Promise.race([signals.begun, service.failed]));
      await service.close();
      logger.info({ state: service.lifecycle.state, failure: service.lifecycle.failure }, 'stopped');
      return service.lifecycle.is('failed') ? 1 : 0;
    } finally {
      signals.dispose();
    }
  };

  // A long-running command's action: its exit code, with the shared signal handler around it.
  const untilDone =
    <O>(command: (opts: O, config: AppConfig, logger: Logger, signal: AbortSignal) => Promise<number>) =>
    async (opts: O): Promise<void> => {
      const { config, logger } = context();
      const signals = shutdownSignals(logger, config.shutdownGraceMs);
      try {
        exitCode = await command(opts, config, logger, signals.signal);
      } finally {
        signals.dispose();
      }
    };

  const serveCommand = (mode: ServiceMode, description: string): void => {
    program
      .command(mode)
      .description(description)
      .action(async () => {
        const { config, logger } = context();
        let service: ScorerService | undefined;
        // SIGHUP reloads the models (as POST /models/reload does); a failure keeps the serving bundles.
        const onHangup = (): void => {
          service?.reload().then(
            (report) => logger.info(report, 'SIGHUP: models reloaded'),
            (err: unknown) => logger.error({ err }, 'SIGHUP: model reload failed; the serving bundles stay'),
          );
        };
        const { ScorerService } = await import('../service/index.js');
        exitCode = await untilStopped(logger, config.shutdownGraceMs, async () => (service = await ScorerService.start({ config, logger, version: readPackageVersion(), mode })), onHangup);
      });
  };
  serveCommand('run', 'Run the Kafka worker and the HTTP sidecar (the main job)');
  serveCommand('serve', 'Run only the HTTP sidecar (synchronous /predict fallback, health, metrics)');

  program
    .command('monitor')
    .description('Join scored opportunities with their outcomes (own consumer group), publish each pair once, serve live figures per model version')
    .action(async () => {
      const { config, logger } = context();
      const { MonitorService } = await import('../service/index.js');
      exitCode = await untilStopped(logger, config.shutdownGraceMs, () => MonitorService.start({ config, logger, version: readPackageVersion() }));
    });

  program
    .command('outcomes')
    .description('Outcome events')
    .command('replay')
    .description("Publish a labelled sample's outcomes (label columns) to the outcomes topic, keyed by id (demo of the loop)")
    .requiredOption('--file <file>', 'opportunities with label columns, one JSON object per line (e.g. samples/opportunities.jsonl)')
    .option('--topic <name>', 'target topic (default OUTCOMES_TOPIC)')
    .option('--rate <events/s>', 'outcomes per second', '1000')
    .option('--delay <ms>', 'wait this long first (so the predictions are scored before)', '0')
    .action(untilDone<OutcomesReplayOptions>(async (...args) => (await import('./outcomes-command.js')).outcomesReplayCommand(...args)));

  const models = program.command('models').description('Manage the model registry (MODEL_DIR, and MLflow with MLFLOW_TRACKING_URI)');
  const modelDir = (): string => loadConfig({ env: process.env, file: program.opts<{ config?: string }>().config }).model.dir;
  models
    .command('list')
    .description('Bundles, their versions and aliases')
    .action(async () => {
      const { listBundles } = await import('../registry/index.js');
      for (const b of await listBundles(modelDir())) {
        const aliases = Object.entries(b.aliases).map(([a, v]) => `${a} -> ${v}`);
        process.stdout.write(`${b.bundle}\n  versions: ${b.versions.join(', ') || '(none)'}\n  aliases:  ${aliases.join(', ') || '(none)'}\n`);
      }
    });
  models
    .command('show <ref>')
    .description('One bundle version (<bundle>@<version|alias>, or models:/… and runs:/… from MLflow): manifest summary and test-period metrics')
    .action(async (ref: string) => {
      const { config, logger } = context();
      const [{ modelSource }, { readBundleInfo }] = await Promise.all([import('../registry/index.js'), import('../inference/index.js')]);
      const resolved = await modelSource(config, logger).resolve(ref);
      const { manifest, card: metrics } = await readBundleInfo(resolved.dir);
      const { features, models: files, training, ...rest } = manifest;
      process.stdout.write(
        `${JSON.stringify(
          { ...rest, alias: resolved.alias, dir: resolved.dir, features: { specVersion: features.specVersion, hash: features.hash, count: features.count }, models: files, training: { rows: training.rows, periods: training.periods }, metrics },
          null,
          2,
        )}\n`,
      );
    });
  models
    .command('promote <bundle> <version>')
    .description('Point an alias at a version (atomic on disk: write, then rename; with --mlflow, in the MLflow model registry)')
    .requiredOption('--alias <alias>', 'e.g. production or staging')
    .option('--mlflow', 'move the alias of registered model <bundle> in MLflow (MLFLOW_TRACKING_URI) instead of registry.json')
    .action(async (bundle: string, version: string, opts: { alias: string; mlflow?: boolean }) => {
      if (opts.mlflow === true) {
        const { promoteInMlflow } = await import('./models-command.js');
        const { previous } = await promoteInMlflow(context().config, bundle, version, opts.alias);
        process.stdout.write(`models:/${bundle}@${opts.alias}: ${previous ?? '(unset)'} -> ${version}\n`);
        return;
      }
      const { promote } = await import('../registry/index.js');
      const { previous } = await promote(modelDir(), bundle, version, opts.alias);
      process.stdout.write(`${bundle}@${opts.alias}: ${previous ?? '(unset)'} -> ${version}\n`);
    });
  models
    .command('push <ref>')
    .description('Register a local bundle (<bundle>@<version|alias> in MODEL_DIR) in MLflow: a run with its parameters, card metrics and files, and a new model version')
    .option('--name <name>', 'registered model name (default: the bundle name)')
    .option('--alias <aliases...>', 'point these aliases at the new version (e.g. staging)')
    .option('--tag <key=value...>', 'tags of the new model version (e.g. the retraining gate\'s decision)')
    .action(async (ref: string, opts: { name?: string; alias?: string[]; tag?: string[] }) => {
      const { config, logger } = context();
      const { pushCommand } = await import('./models-command.js');
      const report = await pushCommand(config, logger, ref, opts);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });

  program
    .command('backfill')
    .description('Score history from a file or a topic time range through a pinned model, into a file or a topic')
    .option('--input <file>', 'events: .jsonl, .json (array), .csv (event columns) or .avro (object container file)')
    .addOption(new Option('--input-format <format>', 'override the input format').choices(['jsonl', 'json', 'csv', 'avro']))
    .option('--topic <name>', 'read a topic instead: records with timestamps in [--from, --to)')
    .option('--from <time>', 'ISO-8601 or epoch ms (with --topic)')
    .option('--to <time>', 'ISO-8601 or epoch ms, exclusive (with --topic)')
    .option('--partitions <list>', 'only these partitions, comma-separated (with --topic)')
    .option('--output <file>', 'results: .jsonl, .csv or .avro by extension (or --format)')
    .option('--output-topic <name>', 'write results to a topic instead (key = opportunity id)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'avro']))
    .option('--model <ref>', 'the model for the whole run: <bundle>@<version|alias>, or models:/… and runs:/… from MLflow (default MODEL_REF)')
    .option('--compare <refs...>', 'score with two models and add a diff report: --compare <refA> <refB>')
    .option('--threshold <composite>', 'decision threshold for --compare (default SHADOW_DECISION_THRESHOLD)')
    .option('--top-k <k>', 'top-k for the compare overlap and the backtest precision', '100')
    .option('--rejects <file>', 'invalid rows with reasons (default <output>.rejects.jsonl)')
    .option('--max-reject-ratio <ratio>', 'exit 3 when rejected/read exceeds this', '0.05')
    .option('--resume', 'continue an interrupted run from its checkpoint (JSONL and CSV outputs)')
    .option('--chunk-size <n>', 'rows per chunk (and model batch)', '1024')
    .option('--threads <n|auto>', 'scoring threads for JSONL file inputs (auto: one per core, at most 4; 1: the main thread); the output is the same bytes', 'auto')
    .addOption(new Option('--scored-at <when>', 'scoredAt of each result: event (= detectedAt; reproducible bytes) or now').choices(['event', 'now']).default('event'))
    .option('--report <file>', 'also write the summary JSON here')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'json', 'none']).default('auto'))
    .action(untilDone<BackfillCommandOptions>(async (opts, config, logger, signal) => (await import('./backfill-command.js')).backfillCommand(opts, config, logger, process.stderr.isTTY === true, signal)));

  program
    .command('ledger')
    .description('Audit delivery: every expected id is in the output or the dead-letter topic (read_committed), not both, and with --exactly-once not twice')
    .option('--ids <file>', 'expected opportunity ids, one per line')
    .option('--input-topic <name>', 'expect every id (record key, else JSON id) found in this topic instead')
    .option('--output-topic <name>', 'default OUTPUT_TOPIC')
    .option('--dlq-topic <name>', 'default DLQ_TOPIC')
    .option('--exactly-once', 'also fail on duplicates in the output topic')
    .option('--sample <n>', 'example ids listed per problem', '20')
    .option('--report <file>', 'also write the JSON report here')
    .action(untilDone<LedgerCommandOptions>(async (...args) => (await import('./ledger-command.js')).ledgerCommand(...args)));

  program
    .command('replay')
    .description('Produce a JSONL file of opportunities into the input topic at a steady rate (demo and staging load)')
    .requiredOption('--file <file>', 'opportunities, one JSON object per line')
    .option('--topic <name>', 'target topic (default: the first of INPUT_TOPICS)')
    .option('--rate <events/s>', 'events per second', '1000')
    .option('--rounds <n>', 'replay the file n times; later rounds suffix ids with #<round>', '1')
    .option('--loop', 'replay until stopped (SIGTERM/SIGINT)')
    .action(untilDone<ReplayCommandOptions>(async (...args) => (await import('./replay-command.js')).replayCommand(...args)));

  program
    .command('features')
    .description('Write the feature matrix of a file of opportunities (JSONL or Avro) as CSV; invalid rows go to a reject file')
    .requiredOption('--input <file>', 'opportunities: .jsonl (one JSON object per line) or .avro (object container file)')
    .requiredOption('--output <file>', 'CSV: id, the features in spec order, then pass-through columns')
    .option('--rejects <file>', 'JSON lines with the reasons for every row left out (default: <output>.rejects.jsonl)')
    .option('--pass-through <fields>', 'comma-separated input fields to copy after the features (default: fields starting with "label")')
    .action(async (opts: { input: string; output: string; rejects?: string; passThrough?: string }) => {
      const started = performance.now();
      const { writeFeatureMatrix } = await import('./feature-matrix.js');
      const summary = await writeFeatureMatrix({
        input: opts.input,
        output: opts.output,
        rejects: opts.rejects ?? `${opts.output}.rejects.jsonl`,
        passThrough: opts.passThrough?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      });
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`${JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(3)) })}\n`);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    exitCode = reportFailure(err);
  }
  return exitCode;
}

/** What `untilStopped` needs of a service (ScorerService and MonitorService alike). */
interface RunningService {
  readonly failed: Promise<string>;
  readonly lifecycle: LifecycleView;
  close(): Promise<void>;
}

function reportFailure(err: unknown): number {
  if (isCommanderExit(err)) return err.exitCode;
  const scorerError = findScorerError(err);
  if (scorerError?.code === 'CONFIG_INVALID') {
    process.stderr.write(`opportunity-scorer: ${scorerError.message}\n`);
    return 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`opportunity-scorer: ${scorerError ? `[${scorerError.code}] ` : ''}${message}\n`);
  if (err instanceof Error && err.cause instanceof Error) process.stderr.write(`  caused by: ${err.cause.message}\n`);
  return 1;
}

function isCommanderExit(err: unknown): err is { exitCode: number } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && err.code.startsWith('commander.') && 'exitCode' in err && typeof err.exitCode === 'number';
}
