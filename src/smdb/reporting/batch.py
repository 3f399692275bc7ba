"""Batches: many courses through one :class:`~smdb.reporting.reporter.Reporter`, with a thread pool, the
municipality's state fetched once, a progress callback, a run recorded in the journal, and an early stop when
SMDB cannot be used (the rest is recorded as not attempted, so "what is left" is complete).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from smdb.client import SmdbClient
from smdb.cpr import mask
from smdb.errors import (
    ConfigurationError,
    SmdbError,
)
from smdb.journal import REJECTED, Journal
from smdb.models import Kontaktforloeb
from smdb.reporting.outcome import (
    AFBRUDT,
    LUKKEDE_SKEMAER,
    NOT_ATTEMPTED,
    BatchInterrupted,
    Outcome,
    OutcomeStatus,
    ProgressCallback,
    Summary,
    masked_raw,
    progress_callback,
)
from smdb.rules import parse, rules_of_the_rest

log = logging.getLogger("smdb.reporting")


class Batches:
    """The batch methods of :class:`~smdb.reporting.reporter.Reporter` (a base class of it; the attributes below
    are the Reporter's, documented there)."""

    journal: Journal
    dry_run: bool
    source: str | None
    run_id: str | None
    kommuner: dict[int, SmdbClient] | None
    _default: SmdbClient
    stop_after_unavailable: int
    municipality_threshold: int
    _municipal: dict[int, dict[str, list[Kontaktforloeb]]]
    _written: set[str]
    _lock: threading.Lock

    @property
    def client(self) -> SmdbClient:
        raise NotImplementedError  # pragma: no cover - Reporter.client

    def report(self, forloeb: Kontaktforloeb, index: int | None = None) -> Outcome:
        raise NotImplementedError  # pragma: no cover - Reporter.report

    def _clients(self) -> list[SmdbClient]:
        raise NotImplementedError  # pragma: no cover - Reporter._clients

    def report_many(
        self,
        forloeb: Sequence[Kontaktforloeb | dict[str, Any]],
        progress: ProgressCallback | TextIO | None = None,
        *,
        workers: int = 1,
    ) -> Summary:
        """Report a batch of courses, given as models or as JSON-like dicts (official names).

        A dict that does not parse is rejected on its own (as :meth:`report_data` explains); outcomes keep the
        batch's indices. ``workers`` > 1 reports different citizens in parallel; the courses of one citizen are
        always reported by one worker, in order, each course's steps strictly in order."""
        prepared: list[Kontaktforloeb | Outcome] = []
        for i, item in enumerate(forloeb):
            prepared.append(item if isinstance(item, Kontaktforloeb) else self._parsed(item, i))
        return self._batch(prepared, progress, workers)

    def report_data(self, data: Any, progress: ProgressCallback | TextIO | None = None, *, workers: int = 1) -> Summary:
        """Report courses given as JSON-like data (one course or a list), as a batch job reads them from a file.

        A course that does not even parse (a wrong code, a missing form) is rejected on its own with its
        violations, exactly like one that breaks a business rule, and the rest of the batch is still reported:
        one bad record must not hold back a municipality's whole nightly run. Outcomes keep the file's indices.
        """
        items = data if isinstance(data, list) else [data]
        return self._batch([self._parsed(item, i) for i, item in enumerate(items)], progress, workers)

    def _parsed(self, item: Any, index: int) -> Kontaktforloeb | Outcome:
        """A course from JSON-like data, or the outcome that says why it cannot be reported (with the rules the
        rest of it breaks, so the file is fixed in one round)."""
        f, errors = parse(item, index)
        if errors:
            rest = rules_of_the_rest(item, errors, index, self.client.today())
            return Outcome(index, masked_raw(item), OutcomeStatus.REJECTED_LOCAL, violations=[*errors, *rest])
        if not isinstance(f, Kontaktforloeb):
            return Outcome(index, masked_raw(item), OutcomeStatus.REFUSED, reason=LUKKEDE_SKEMAER)
        return f

    def _prefetch(self, courses: list[Kontaktforloeb]) -> None:
        """One state fetch per municipality with at least ``municipality_threshold`` courses in the batch: four
        Hent* calls by KommuneKode instead of four per citizen (a re-run of an unchanged batch then costs a handful
        of calls). Assembled exactly as per citizen (smdb.register), joined by ids only."""
        per_kommune = collections.Counter(f.kommunekode for f in courses)
        for kommune, n in per_kommune.items():
            if not self.municipality_threshold or n < self.municipality_threshold:
                continue
            if self.kommuner is not None and kommune not in self.kommuner:
                continue  # its courses are refused one by one, nothing is fetched with another's certificate
            client = self.kommuner[kommune] if self.kommuner is not None else self._default
            self._municipal[kommune] = client.hent_kommunens_forloeb(kommune)

    def _batch(
        self, items: list[Kontaktforloeb | Outcome], progress: ProgressCallback | TextIO | None, workers: int = 1
    ) -> Summary:
        if workers < 1:
            raise ConfigurationError("workers skal være mindst 1")
        if not self.dry_run and self.journal.persistent:
            self.run_id = self.journal.start_run(self.source)
        calls_before = self._call_counts()
        results: list[Outcome | None] = [item if isinstance(item, Outcome) else None for item in items]
        courses = {i: item for i, item in enumerate(items) if isinstance(item, Kontaktforloeb)}
        notify = progress_callback(progress)
        # courses handled (parsed or not); a course not attempted is not counted, so a run stopped early never
        # says it handled what it did not
        done = [len(items) - len(courses)]
        blocked = [0]
        self._municipal, self._written = {}, set()
        try:
            self._prefetch(list(courses.values()))
        except SmdbError as exc:  # the per-citizen path still works, and says what is wrong per course
            log.info("kommunens samlede status kunne ikke hentes (%s); henter pr. borger", type(exc).__name__)
            self._municipal = {}

        interrupted = threading.Event()

        def run(indices: list[int]) -> None:
            for i in indices:
                item = courses[i]
                with self._lock:
                    stop = bool(self.stop_after_unavailable) and blocked[0] >= self.stop_after_unavailable
                if interrupted.is_set():
                    outcome = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=AFBRUDT)
                elif stop:
                    outcome = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=NOT_ATTEMPTED)
                else:
                    outcome = self.report(item, i)
                with self._lock:
                    if not stop:
                        blocked[0] = blocked[0] + 1 if outcome.blocking else 0
                    results[i] = outcome
                    if outcome.status is not OutcomeStatus.NOT_ATTEMPTED:
                        done[0] += 1
                        if notify is not None:
                            notify(done[0], len(items))

        try:
            if workers == 1:
                run(sorted(courses))
            else:
                # one task per citizen: a citizen's courses in order, by one worker; citizens in parallel
                by_citizen: dict[str, list[int]] = {}
                for i in sorted(courses):
                    by_citizen.setdefault(str(courses[i].cpr), []).append(i)
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smdb-indberet") as pool:
                    futures = [pool.submit(run, indices) for indices in by_citizen.values()]
                    try:
                        for future in futures:
                            future.result()
                    except KeyboardInterrupt:
                        interrupted.set()  # courses under way finish (at-most-once holds); no new one starts
                        raise
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: say what was done before stopping; what was not is reported again on a re-run
            interrupted.set()
            for i, item in courses.items():
                if results[i] is None:
                    results[i] = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=AFBRUDT)
            summary = self._summary(results, calls_before)
            self._finish_run(items, results, summary)
            raise BatchInterrupted(summary) from None
        finally:
            # the municipality's state is true only at the start of this batch: never reuse it after it
            self._municipal, self._written = {}, set()
            if notify is not None and hasattr(notify, "close"):
                notify.close()
        summary = self._summary(results, calls_before)
        self._finish_run(items, results, summary)
        return summary

    def _finish_run(
        self, items: list[Kontaktforloeb | Outcome], results: list[Outcome | None], summary: Summary
    ) -> None:
        if self.run_id is None:
            return
        self._record_rest(items, results)
        counts = {k: v for k, v in summary.to_dict().items() if isinstance(v, int)}
        self.journal.finish_run(self.run_id, counts)
        self.run_id = None

    def _set_course(
        self, index: int | None, key: str, chash: str, status: str, masked: str, reason: str | None = None
    ) -> None:
        self.journal.set_course(key, chash, status, masked, reason, run_id=self.run_id, input_index=index)

    def _record_rest(self, items: list[Kontaktforloeb | Outcome], results: list[Outcome | None]) -> None:
        """Every course of a run leaves its latest state in the journal: also those not attempted, held by another
        run, or that did not parse (keyed by their place in the input), so "what is left" is complete; a course
        that parses now clears the entry its place left when it did not."""
        if self.dry_run or not self.journal.persistent:
            return
        source = self.source or "<data>"
        self.journal.forget(
            [self.journal.input_key(source, i) for i, x in enumerate(items) if isinstance(x, Kontaktforloeb)]
        )
        for i, (item, outcome) in enumerate(zip(items, results, strict=True)):
            if isinstance(item, Kontaktforloeb):
                if outcome is not None and outcome.status in (OutcomeStatus.NOT_ATTEMPTED, OutcomeStatus.BUSY):
                    key = self.journal.course_key(str(item.cpr), item.kommunekode, item.anmodningsdato.isoformat())
                    status = "not_attempted" if outcome.status is OutcomeStatus.NOT_ATTEMPTED else "busy"
                    self.journal.set_course(
                        key, "", status, outcome.cpr_masked, outcome.reason, run_id=self.run_id, input_index=i
                    )
            elif outcome is not None:
                reason = outcome.reason or "; ".join(v.tekst() for v in outcome.violations[:3])
                self.journal.set_course(
                    self.journal.input_key(source, i),
                    "",
                    REJECTED,
                    outcome.cpr_masked,
                    f"kan ikke læses som et forløb: {reason}",
                    run_id=self.run_id,
                    input_index=i,
                )

    def _call_counts(self) -> dict[str, int]:
        counts: collections.Counter[str] = collections.Counter()
        for client in self._clients():
            counts.update(client.call_counts())
        return dict(counts)

    def _summary(self, results: list[Outcome | None], calls_before: dict[str, int]) -> Summary:
        after = self._call_counts()
        calls = {op: n - calls_before.get(op, 0) for op, n in after.items() if n - calls_before.get(op, 0)}
        return Summary([o for o in results if o is not None], calls)
