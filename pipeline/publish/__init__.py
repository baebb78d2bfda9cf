"""The publish stage: every approved post published exactly once, with its approved content,
whatever failed or was killed before.

    selection.py   what to publish: the posts a run takes up, and why a post is left alone
    reconcile.py   what happened last time: an interrupted write judged by what WeChat holds
    writes.py      the writes: uploads, the draft, submit, mass send, each between an intent and a result
    publisher.py   one post at a time under its claim, then WeChat's answers polled
    run.py         one run as `gzh publish` and `gzh demo` make it: its edges, its report, the `run` event
    outcome.py     what a run did with each post
"""
from pipeline.publish.outcome import Outcome, Result
from pipeline.publish.publisher import Publisher

__all__ = ["Outcome", "Publisher", "Result"]
