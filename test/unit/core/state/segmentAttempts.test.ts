import { committedAttempt, withAttempt } from '../../../../functions/core/state/segmentAttempts';
import { StateItemInvalidError } from '../../../../functions/core/state/errors';
import { progressFromItem, progressToItem } from '../../../../functions/core/state/stateItems';
import { progress } from '../../../helpers/stateStoreContract';

const NOW = 1_700_000_000_000;
const LATER = NOW / 1000 + 3_600;

describe('segment attempts', () => {
  test('when a commit wrote attempt 0, the progress records nothing and readers take attempt 0', () => {
    const base = progress('p', { commits: 3 });
    const next = withAttempt(base, 3, 0, LATER, NOW);
    expect(next).toBe(base);
    expect(next.attempts).toBeUndefined();
    expect([1, 2, 3].map((c) => committedAttempt(next, c))).toEqual([0, 0, 0]);
  });

  test('when a commit wrote a later attempt, readers take that one for it and 0 for the others', () => {
    const next = withAttempt(progress('p', { commits: 3 }), 3, 2, LATER, NOW);
    expect(next.attempts).toEqual([[3, 2, LATER]]);
    expect([1, 2, 3].map((c) => committedAttempt(next, c))).toEqual([0, 0, 2]);
  });

  test('when a commit is not committed in the progress, no attempt is the committed one', () => {
    const shard = progress('p', { commits: 2 });
    expect(committedAttempt(shard, 3)).toBeUndefined();
    expect(committedAttempt(shard, 0)).toBeUndefined();
  });

  test('when many commits needed later attempts, every entry is kept while its segment lives, pending or not', () => {
    let shard = progress('p', { commits: 0, pending: [] });
    for (let commit = 1; commit <= 200; commit++) {
      shard = withAttempt({ ...shard, commits: commit }, commit, 1, LATER, NOW);
    }
    expect(shard.attempts).toHaveLength(200);
    expect(shard.attemptsFrom).toBeUndefined();
    expect([1, 100, 200].map((c) => committedAttempt(shard, c))).toEqual([1, 1, 1]);
  });

  test('when segments have expired, their entries are dropped and every commit up to the newest of them reads as expired', () => {
    let shard = progress('p', { commits: 0 });
    // Commits 1–3 expire an hour from NOW, commit 5 a day later; commit 4 was attempt 0.
    for (const [commit, attempt, expires] of [
      [1, 1, LATER],
      [2, 0, LATER],
      [3, 2, LATER],
      [4, 0, LATER + 1],
      [5, 1, LATER + 86_400],
    ] as const) {
      shard = withAttempt({ ...shard, commits: commit }, commit, attempt, expires, NOW);
    }
    expect(shard.attempts?.map(([c]) => c)).toEqual([1, 3, 5]);
    const after = withAttempt({ ...shard, commits: 6 }, 6, 0, LATER + 90_000, (LATER + 60) * 1000);
    expect(after.attempts).toEqual([[5, 1, LATER + 86_400]]);
    expect(after.attemptsFrom).toBe(4);
    expect([3, 4, 5, 6].map((c) => committedAttempt(after, c))).toEqual([undefined, 0, 1, 0]);
  });
});

describe('progress item attributes of attempts and operator counts', () => {
  test('when a progress item records attempts and operator counts, it reads back the same', () => {
    const shard = progress('p', {
      commits: 5,
      attempts: [[4, 2, 1_800_000_000]],
      attemptsFrom: 3,
      counts: { records: 9, rejected: 1, late: 0, duplicates: 0, operators: [[8, 6]] },
    });
    expect(progressFromItem(progressToItem(shard))).toEqual(shard);
  });

  test('when a stored progress item holds a malformed attempt list, reading it fails naming the attribute', () => {
    const item = { ...progressToItem(progress('p')), attempts: { S: '[[1, 0, 5]]' } };
    expect(() => progressFromItem(item)).toThrow(StateItemInvalidError);
    expect(() => progressFromItem({ ...item, attempts: { S: 'not json' } })).toThrow(
      'State item attribute attempts must be JSON',
    );
    expect(() => progressFromItem({ ...item, attempts: { S: '[[1, 2]]' } })).toThrow(
      'State item attribute attempts must be a list of [commit, attempt, expiresAt]',
    );
  });
});
