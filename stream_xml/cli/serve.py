"""``stream-xml serve`` and ``stream-xml produce``: the service on Kafka, and a replayer to feed it.

``serve`` runs the prequential loop of ``evaluate`` on Kafka topics as a long-lived service (see
:mod:`stream_xml.service`); ``produce`` replays a file source into a topic. :func:`add_parser`
adds both to the ``stream-xml`` parser.

>>> import argparse
>>> from stream_xml.cli.serve import add_parser
>>> parser = argparse.ArgumentParser(prog="stream-xml")
>>> add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["serve", "--bootstrap-servers", "127.0.0.1:9092", "--topic", "genes",
...     "--group", "g", "--model", "ihomer", "--checkpoint-dir", "ck", "--out", "rep",
...     "--sasl-mechanism", "PLAIN", "--security-protocol", "SASL_SSL", "--sasl-plain-username", "u"])
>>> sorted(kafka_settings(args).items())[:3]
[('heartbeat_interval_ms', 3000), ('max_poll_interval_ms', 300000), ('sasl_mechanism', 'PLAIN')]
>>> args.func.__name__
'run_serve'

"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import sys
import time

from stream_xml.cli.options import add_source_options, model_labels, open_cli_source, split_params

__all__ = ["add_parser", "kafka_settings", "parse_labels", "run_serve", "run_produce"]

log = logging.getLogger("stream_xml.service")

PASSWORD_ENV = {"sasl_plain_password": "STREAM_XML_SASL_PASSWORD", "ssl_password": "STREAM_XML_SSL_PASSWORD"}


# --------------------------------------------------------------------------- options


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection (passed through to kafka-python)")
    g.add_argument("--bootstrap-servers", required=True, help="host:port[,host:port...] of the cluster")
    g.add_argument("--client-id", default=None, help="client id shown in the broker's logs")
    g.add_argument("--security-protocol", default=None, choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"))
    g.add_argument("--sasl-mechanism", default=None,
                   choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"))
    g.add_argument("--sasl-plain-username", default=None)
    g.add_argument("--sasl-plain-password", default=None,
                   help=f"(default: ${PASSWORD_ENV['sasl_plain_password']}, which keeps it off the command line)")
    g.add_argument("--sasl-kerberos-service-name", default=None)
    g.add_argument("--sasl-kerberos-domain-name", default=None)
    g.add_argument("--ssl-cafile", default=None, help="CA bundle to verify the brokers")
    g.add_argument("--ssl-certfile", default=None, help="client certificate (mutual TLS)")
    g.add_argument("--ssl-keyfile", default=None, help="client private key")
    g.add_argument("--ssl-password", default=None,
                   help=f"password of the key file (default: ${PASSWORD_ENV['ssl_password']})")
    g.add_argument("--ssl-crlfile", default=None)
    g.add_argument("--ssl-ciphers", default=None)
    g.add_argument("--no-ssl-check-hostname", dest="ssl_check_hostname", action="store_false", default=None,
                   help="do not check the broker certificate's host name")
    g.add_argument("--kafka-option", action="append", default=[], metavar="KEY=VALUE",
                   help="any other kafka-python client setting (e.g. request_timeout_ms=60000); repeatable")


def _add_group_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("consumer group")
    g.add_argument("--session-timeout-ms", type=int, default=45000,
                   help="a member silent this long leaves the group (kafka-python's default)")
    g.add_argument("--max-poll-interval-ms", type=int, default=300000,
                   help="longest gap between polls; also the group's rebalance timeout (kafka-python's default)")
    g.add_argument("--heartbeat-interval-ms", type=int, default=None,
                   help="default: a third of the session timeout, at most 3000")


def kafka_settings(args) -> dict:
    """kafka-python settings from the parsed options (security, timeouts, --kafka-option)."""
    from connectors.kafka import SECURITY_OPTIONS, client_options

    chosen = {name: getattr(args, name, None) for name in SECURITY_OPTIONS}
    for name, variable in PASSWORD_ENV.items():
        if chosen.get(name) is None and os.environ.get(variable):
            chosen[name] = os.environ[variable]
    settings = client_options(**chosen)
    if getattr(args, "session_timeout_ms", None) is not None:
        settings["session_timeout_ms"] = args.session_timeout_ms
        settings["max_poll_interval_ms"] = args.max_poll_interval_ms
        settings["heartbeat_interval_ms"] = args.heartbeat_interval_ms or min(3000, args.session_timeout_ms // 3)
    for item in args.kafka_option:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--kafka-option expects key=value, got {item!r}")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        settings[key.strip()] = value
    _check_settings(settings)
    return settings


def _check_settings(settings: dict) -> None:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

    known = set(KafkaConsumer.DEFAULT_CONFIG) | set(KafkaProducer.DEFAULT_CONFIG) | set(KafkaAdminClient.DEFAULT_CONFIG)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"kafka-python has no client setting {', '.join(unknown)}")


def _topics(values) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def add_parser(subparsers) -> None:
    """Add ``serve`` and ``produce`` to the ``stream-xml`` subcommands."""
    sv = subparsers.add_parser("serve", help="learn and predict on Kafka topics as a long-lived service")
    _add_connection_options(sv)
    sv.add_argument("--topic", action="append", required=True, help="input topic (repeat or comma-separate)")
    sv.add_argument("--group", required=True, help="consumer group id")
    sv.add_argument("--output-topic", default=None, help="where predictions go, keyed like the input (none: not published)")
    sv.add_argument("--dead-letter-topic", default=None,
                    help="where messages that fail to decode, and unmatched labels, go with their error")
    sv.add_argument("--on-error", choices=("skip", "raise"), default="skip",
                    help="skip: dead-letter (or log) a bad message, count it and go on; raise: stop the service "
                         "with an error naming topic/partition/offset (after checkpointing the records before it)")
    sv.add_argument("--decoder", default="json", help="'json' or module:function(value, where, offset) -> (id, x, y)")
    sv.add_argument("--start", choices=("earliest", "latest"), default="earliest",
                    help="where a partition with neither checkpoint nor committed offset starts")
    sv.add_argument("--model", action="append", default=[], metavar="[LABEL=]NAME",
                    help="model name, or LABEL=NAME for a variant under a label of its own (repeat for several); "
                         "optional when resuming from a checkpoint")
    sv.add_argument("--param", action="append", default=[], metavar="[LABEL:]KEY=VALUE",
                    help="model parameter key=value (every model) or LABEL:key=value (one)")
    sv.add_argument("--seed", type=int, default=0, help="seed for every model that takes one")
    sv.add_argument("--labels", default=None,
                    help="label names known up front (a new checkpoint only): comma-separated, or @FILE with one "
                         "per line; integer-looking names are integers, as in JSON. Others join as they appear")
    sv.add_argument("--nominal-features", default=None,
                    help="features declared nominal, 0/1 indicators that the trees split by counts (a new checkpoint "
                         "only): comma-separated, or @FILE with one per line")
    sv.add_argument("--checkpoint-dir", required=True, help="folder of the checkpoints (model + offsets)")
    sv.add_argument("--checkpoint-every", type=int, default=1000, help="checkpoint every N records")
    sv.add_argument("--checkpoint-seconds", type=float, default=60.0, help="... and at least every T seconds")
    sv.add_argument("--keep-checkpoints", type=int, default=3, help="how many checkpoints to keep")
    sv.add_argument("--restore", default=None, metavar="FILE",
                    help="restore this checkpoint file (e.g. a backup, when every checkpoint of the folder is "
                         "damaged) and go on from it; it becomes the folder's newest checkpoint")
    sv.add_argument("--fresh-start", action="store_true",
                    help="start a new model although the folder's checkpoints cannot be restored (damaged or of "
                         "another format); refused while a readable checkpoint exists. Without it such a folder is "
                         "refused at every start")
    sv.add_argument("--awaiting-capacity", type=int, default=100000,
                    help="records predicted without labels kept waiting for them (oldest evicted, counted)")
    sv.add_argument("--out", required=True, help="report folder (report.json, series.csv, report.html)")
    sv.add_argument("--report-seconds", type=float, default=None,
                    help="also write the report every T seconds (always: on SIGUSR1 and at shutdown)")
    sv.add_argument("--stop-when-idle", type=float, default=None, metavar="SECONDS",
                    help="stop after no message for this long (counted from the partition assignment)")
    sv.add_argument("--top-scores", type=int, default=10, help="label scores published per prediction")
    sv.add_argument("--window", type=int, default=1000, help="rolling window of the windowed metrics")
    sv.add_argument("--fading", type=float, default=None, help="fading factor for faded metrics")
    sv.add_argument("--every", type=int, default=100, help="sample the series every N labelled records")
    sv.add_argument("--zero-division", type=float, default=0.0, choices=(0.0, 1.0))
    sv.add_argument("--status-seconds", type=float, default=30.0, help="log a status line every T seconds")
    sv.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    _add_group_options(sv)
    sv.set_defaults(func=run_serve)

    pr = subparsers.add_parser("produce", help="replay a file source into a Kafka topic")
    add_source_options(pr)
    _add_connection_options(pr)
    pr.add_argument("--topic", required=True, help="the topic (created with --partitions if missing)")
    pr.add_argument("--partitions", type=int, default=1, help="partitions of the topic when it is created")
    pr.add_argument("--rate", type=float, default=None, help="at most this many messages per second")
    pr.add_argument("--limit", type=int, default=None, help="stop after N records")
    pr.add_argument("--loop", action="store_true", help="start the source again at its end (with --limit or Ctrl-C)")
    pr.add_argument("--label-delay", type=int, default=0, metavar="N",
                    help="send records without labels and their labels N records later (delayed labels)")
    pr.add_argument("--no-progress", action="store_true", help="no progress bar")
    pr.set_defaults(func=run_produce)


# --------------------------------------------------------------------------- serve


def _model_specs(args) -> dict:
    labels = model_labels(args.model)
    params = split_params(args.param, labels)
    return {label: {"model": name, "params": params[label], "seed": args.seed} for label, name in labels.items()}


def _names(spec: str | None, option: str, noun: str) -> list:
    """Names from a comma-separated list or ``@path`` (one per line), blanks dropped."""
    if not spec:
        return []
    if spec.startswith("@"):
        with open(spec[1:], encoding="utf-8") as f:
            names = [line.strip() for line in f]
    else:
        names = [name.strip() for name in spec.split(",")]
    names = [n for n in names if n]
    if len(set(names)) != len(names):
        raise ValueError(f"{option} names a {noun} twice")
    return names


def parse_labels(spec: str | None) -> list:
    """Label names from ``--labels``: ``"a,b,3"`` or ``"@path"`` (one name per line).

    >>> parse_labels("sports, politics,3")
    ['sports', 'politics', 3]

    """
    return [int(n) if n.lstrip("-").isdigit() else n for n in _names(spec, "--labels", "label")]


def parse_nominal_features(spec: str | None) -> dict:
    """The feature kinds ``--nominal-features`` declares (feature names are JSON object keys: text).

    >>> parse_nominal_features("has_photo, 3")
    {'has_photo': 'nominal', '3': 'nominal'}

    """
    return {name: "nominal" for name in _names(spec, "--nominal-features", "feature")}


def _new_state(args, specs: dict):
    from stream_xml.evaluation.prequential import PrequentialEvaluator
    from stream_xml.models import make_model
    from stream_xml.service import AwaitingLabels, ServiceState

    models = {name: make_model(s["model"], s["params"], seed=s["seed"]) for name, s in specs.items()}
    evaluator = PrequentialEvaluator(models, labels=parse_labels(args.labels), window=args.window,
                                     fading=args.fading, every=args.every, zero_division=args.zero_division,
                                     feature_kinds=parse_nominal_features(args.nominal_features))
    return ServiceState(evaluator=evaluator, models=specs, awaiting=AwaitingLabels(args.awaiting_capacity))


def _latest(args, store):
    """The folder's newest readable checkpoint, or None; ``--restore`` and ``--fresh-start`` decide
    what a folder without a readable checkpoint becomes (without them it is refused)."""
    from stream_xml.persistence import CheckpointError, read_checkpoint

    if args.restore:
        if args.fresh_start:
            raise ValueError("--restore and --fresh-start exclude each other")
        return args.restore, read_checkpoint(args.restore)
    try:
        restored = store.latest()
    except CheckpointError as err:
        if args.fresh_start:
            log.warning("--fresh-start: a new model replaces what %s held (%s)", args.checkpoint_dir, err)
            return None
        raise CheckpointError(f"{err}. To go on from a file of your choice: --restore FILE; to start a new "
                              f"model from the group's committed offsets: --fresh-start") from None
    if restored is not None and args.fresh_start:
        raise ValueError(f"--fresh-start: {restored[0]} is readable; it would be thrown away. Start a new model "
                         f"in another --checkpoint-dir")
    return restored


def _restore_or_create(args, store):
    restored = _latest(args, store)
    if restored is None:
        if not args.model:
            raise ValueError(f"no checkpoint in {args.checkpoint_dir}: give --model to start a new one")
        return _new_state(args, _model_specs(args)), None
    path, state = restored
    # perf_counter of another process means nothing here: wall time counts from this start
    state.evaluator.started = time.perf_counter()
    if args.model:
        wanted = _model_specs(args)
        if wanted != state.models:
            raise ValueError(
                f"checkpoint {path} holds models {state.models}, but this run asks for {wanted}: use another "
                f"--checkpoint-dir, or the same --model/--param/--seed (or none, to take the checkpoint's)")
    if args.labels:
        log.info("--labels ignored: the label space comes from checkpoint %s", path)
    if args.nominal_features:
        log.info("--nominal-features ignored: the models of checkpoint %s hold their declarations", path)
    evicted = state.awaiting.resize(args.awaiting_capacity)
    if evicted:
        log.warning("--awaiting-capacity %d is below the %d records waiting in the checkpoint: evicted %d",
                    args.awaiting_capacity, args.awaiting_capacity + evicted, evicted)
    return state, path


def run_serve(args) -> int:
    """``stream-xml serve``: logging as ``--log-level`` says, then :func:`_serve`; checkpoint and
    Kafka errors end it with a message."""
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        raise ValueError(f"--log-level: unknown level {args.log_level!r}")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # kafka-python narrates every connection at INFO; keep its warnings unless debugging
    logging.getLogger("kafka").setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    return _reporting_failures(_serve, args)


def _serve(args) -> int:
    from connectors.kafka import DeadLetterSink, KafkaSource, PredictionSink, ensure_topics, load_decoder, make_producer
    from stream_xml.evaluation.report import TMP_PREFIX as REPORT_TMP_PREFIX
    from stream_xml.files import remove_temporaries
    from stream_xml.persistence import CheckpointStore
    from stream_xml.service import Service, ServiceOptions

    settings = kafka_settings(args)
    options = ServiceOptions(
        checkpoint_every=args.checkpoint_every, checkpoint_seconds=args.checkpoint_seconds,
        report_seconds=args.report_seconds, stop_when_idle=args.stop_when_idle, on_error=args.on_error,
        status_seconds=args.status_seconds,
    )
    decoder = load_decoder(args.decoder)
    topics = _topics(args.topic)
    store = CheckpointStore(args.checkpoint_dir, keep=args.keep_checkpoints, lock=True)
    # the lock makes the report folder ours too: drop what a kill in the middle of a report left
    remove_temporaries(args.out, prefix=REPORT_TMP_PREFIX)
    producer = source = None
    try:
        state, restored_from = _restore_or_create(args, store)
        state.starts += 1
        if restored_from:
            log.info("restored %s: %d records seen, offsets %s", restored_from, state.counts.records_seen,
                     {f"{t}/{p}": o for (t, p), o in sorted(state.positions.items())})
        if args.restore or args.fresh_start:  # the decision stands for the starts after this one
            log.info("checkpointed the %s state: %s", "restored" if args.restore else "new", store.save(state))
        outputs = {t: 1 for t in (args.output_topic, args.dead_letter_topic) if t}
        if outputs:
            ensure_topics(args.bootstrap_servers, outputs, settings)
            producer = make_producer(args.bootstrap_servers, settings)
        sink = PredictionSink(producer, args.output_topic, args.top_scores) if args.output_topic else None
        dead = DeadLetterSink(producer, args.dead_letter_topic) if args.dead_letter_topic else None
        source = KafkaSource(topics, args.bootstrap_servers, args.group, decoder=decoder, start=args.start,
                             settings=settings)
        config = {
            "command": "serve",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "restored_from": restored_from,
            "topics": topics,
            "group": args.group,
            "output_topic": args.output_topic,
            "dead_letter_topic": args.dead_letter_topic,
            "models": state.models,
            "window": state.evaluator.window,
            "every": state.evaluator.every,
            "on_error": args.on_error,
            "checkpoint_every": args.checkpoint_every,
            "checkpoint_seconds": args.checkpoint_seconds,
            "awaiting_capacity": state.awaiting.capacity,
            "zero_division": args.zero_division,
        }
        service = Service(source, state, store, out_dir=args.out, sink=sink, dead_letters=dead,
                          options=options, config=config)
        result = service.run()
        source = None  # closed by the service
        s = result["service"]
        print(f"{s['records_seen']} records seen, {s['records_learned']} learned, {s['records_evaluated']} "
              f"evaluated, {s['records_dead_lettered']} dead-lettered, {s['records_awaiting_labels']} awaiting "
              f"labels ({result['stopped']})", file=sys.stderr)
        return 0
    finally:
        if source is not None:
            source.close()
        if producer is not None:
            producer.close(timeout=10)
        store.close()


# --------------------------------------------------------------------------- produce


def run_produce(args) -> int:
    """``stream-xml produce``."""
    return _reporting_failures(_produce, args)


def _produce(args) -> int:
    from connectors.kafka import ensure_topics, make_producer, replay

    if args.loop and args.limit is None:
        print("stream-xml produce: --loop without --limit runs until Ctrl-C", file=sys.stderr)
    settings = kafka_settings(args)
    source = open_cli_source(args)
    created = ensure_topics(args.bootstrap_servers, {args.topic: args.partitions}, settings)
    if created:
        print(f"created topic {args.topic!r} with {args.partitions} partition(s)", file=sys.stderr)
    producer = make_producer(args.bootstrap_servers, settings)
    failures: list[str] = []
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(unit="msg", desc=args.topic, disable=None, mininterval=0.5)

    def publish(key: bytes, value: bytes) -> None:
        future = producer.send(args.topic, key=key, value=value)
        future.add_errback(lambda err: failures.append(f"{type(err).__name__}: {err}"))
        if bar is not None:
            bar.update(1)

    interrupted = False
    counts = None
    try:
        counts = replay(source, publish, rate=args.rate, limit=args.limit, loop=args.loop, label_delay=args.label_delay)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        producer.flush(timeout=60)
        producer.close(timeout=10)
    if failures:
        print(f"stream-xml produce: {len(failures)} messages were not delivered; first: {failures[0]}", file=sys.stderr)
        return 1
    skipped = getattr(getattr(source, "errors", None), "count", 0)
    if counts is not None:
        print(f"sent {counts['messages']} messages ({counts['records']} records, {counts['label_messages']} label "
              f"messages) to {args.topic!r}" + (f"; skipped {skipped} bad records" if skipped else ""), file=sys.stderr)
    return 130 if interrupted else 0


# --------------------------------------------------------------------------- entry points


def _reporting_failures(command, args) -> int:
    """Run ``command(args)``; a checkpoint or Kafka error ends it with a message and exit code."""
    from kafka.errors import KafkaError

    from connectors.kafka import DeliveryError
    from stream_xml.persistence import CheckpointError, CheckpointLocked

    try:
        return command(args)
    except (CheckpointError, CheckpointLocked) as e:
        print(f"stream-xml {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (KafkaError, DeliveryError) as e:
        print(f"stream-xml {args.command}: Kafka error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
