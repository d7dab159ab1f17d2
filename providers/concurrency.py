"""A few independent provider requests in flight at once, results in order.

Against a real provider every request waits 100-300 ms for the network; a sync
that asks for one page or one group after the other spends most of its time
waiting. :func:`fetch_ordered` keeps up to ``window`` requests running in
threads and hands their results back in the order of their keys, so callers
store exactly what the one-by-one loop stored, in the same order. Each request
keeps its own retries (429 Retry-After included) in its own thread.
"""
import collections
from concurrent.futures import ThreadPoolExecutor

__all__ = ['fetch_ordered', 'Failed']


class Failed(object):
    """The error of one key's request, when the caller asked to receive errors as results."""
    __slots__ = ('error',)

    def __init__(self, error):
        self.error = error


def fetch_ordered(fetch, keys, window, catch=()):
    """Yield ``(key, fetch(key))`` for each key, in order, with at most ``window``
    requests in flight.

    ``keys`` may be endless (page numbers): no key is asked for before the
    consumer needs it within the window, and when the consumer stops (the
    generator is closed) the requests not started are dropped. An exception of
    a type in ``catch`` comes back as a :class:`Failed` result for that key;
    any other one is raised when its key's turn comes, as the loop would have.
    ``window`` 1 (or less) runs one request after the other, in this thread.
    """
    keys = iter(keys)
    if window <= 1:
        for key in keys:
            yield key, _call(fetch, key, catch)
        return
    pool = ThreadPoolExecutor(max_workers=window)
    pending = collections.deque()
    try:
        for key in keys:
            pending.append((key, pool.submit(_call, fetch, key, catch)))
            if len(pending) >= window:
                break
        while pending:
            key, future = pending.popleft()
            result = future.result()
            yield key, result
            for next_key in keys:
                pending.append((next_key, pool.submit(_call, fetch, next_key, catch)))
                break
    finally:
        for _key, future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _call(fetch, key, catch):
    try:
        return fetch(key)
    except catch as error:  # pylint: disable=catching-non-exception
        return Failed(error)
