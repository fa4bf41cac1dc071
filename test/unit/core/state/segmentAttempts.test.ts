import {
  committedAttempt,
  MAX_KEPT_ATTEMPTS,
  withAttempt,
} from '../../../../functions/core/state/segmentAttempts';
import { StateItemInvalidError } from '../../../../functions/core/state/errors';
import { progressFromItem, progressToItem } from '../../../../functions/core/state/stateItems';
import { progress } from '../../../helpers/stateStoreContract';

describe('segment attempts', () => {
  test('when a commit wrote attempt 0, the progress records nothing and readers take attempt 0', () => {
    const base = progress('p', { commits: 3 });
    const next = withAttempt(base, 3, 0);
    expect(next).toBe(base);
    expect(next.attempts).toBeUndefined();
    expect([1, 2, 3].map((c) => committedAttempt(next, c))).toEqual([0, 0, 0]);
  });

  test('when a commit wrote a later attempt, readers take that one for it and 0 for the others', () => {
    const next = withAttempt(progress('p', { commits: 3 }), 3, 2);
    expect(next.attempts).toEqual([[3, 2]]);
    expect([1, 2, 3].map((c) => committedAttempt(next, c))).toEqual([0, 0, 2]);
  });

  test('when a commit is not committed in the progress, no attempt is the committed one', () => {
    const shard = progress('p', { commits: 2 });
    expect(committedAttempt(shard, 3)).toBeUndefined();
    expect(committedAttempt(shard, 0)).toBeUndefined();
  });

  test('when more attempts are recorded than kept, the oldest below every pending window are forgotten and reads of them find nothing', () => {
    let shard = progress('p', {
      commits: 0,
      pending: [{ start: 0, end: 60_000, firstCommit: 70, lastCommit: 90 }],
    });
    for (let commit = 1; commit <= MAX_KEPT_ATTEMPTS + 10; commit++) {
      shard = withAttempt({ ...shard, commits: commit }, commit, 1);
    }
    expect(shard.attempts).toHaveLength(MAX_KEPT_ATTEMPTS);
    expect(shard.attemptsFrom).toBe(11);
    expect(committedAttempt(shard, 10)).toBeUndefined();
    expect(committedAttempt(shard, 11)).toBe(1);
  });

  test('when every recorded attempt is at or above the first pending commit, none is forgotten', () => {
    let shard = progress('p', {
      commits: 0,
      pending: [{ start: 0, end: 60_000, firstCommit: 1, lastCommit: 1 }],
    });
    for (let commit = 1; commit <= MAX_KEPT_ATTEMPTS + 5; commit++) {
      shard = withAttempt({ ...shard, commits: commit }, commit, 1);
    }
    expect(shard.attempts).toHaveLength(MAX_KEPT_ATTEMPTS + 5);
    expect(shard.attemptsFrom).toBeUndefined();
  });
});

describe('progress item attributes of attempts and operator counts', () => {
  test('when a progress item records attempts and operator counts, it reads back the same', () => {
    const shard = progress('p', {
      commits: 5,
      attempts: [[4, 2]],
      attemptsFrom: 3,
      counts: { records: 9, rejected: 1, late: 0, duplicates: 0, operators: [[8, 6]] },
    });
    expect(progressFromItem(progressToItem(shard))).toEqual(shard);
  });

  test('when a stored progress item holds a malformed attempt list, reading it fails naming the attribute', () => {
    const item = { ...progressToItem(progress('p')), attempts: { S: '[[1, 0]]' } };
    expect(() => progressFromItem(item)).toThrow(StateItemInvalidError);
    expect(() => progressFromItem({ ...item, attempts: { S: 'not json' } })).toThrow(
      'State item attribute attempts must be JSON',
    );
    expect(() => progressFromItem({ ...item, attempts: { S: '[[1, 0]]' } })).toThrow(
      'State item attribute attempts must be a list of [commit, attempt]',
    );
  });
});
