import { fidelityTable } from '../../../bench/local/dynamoDbFidelity';

describe('fidelityTable', () => {
  it('when emulators differ, it renders one row per behaviour with a column per emulator and escapes pipes', () => {
    const table = fidelityTable([
      { emulator: 'a', checks: [{ name: 'TTL', passed: false, detail: 'Unknown | op' }] },
      { emulator: 'b', checks: [{ name: 'TTL', passed: true, detail: 'ENABLED' }] },
    ]);
    expect(table).toBe(
      ['| Behaviour | a | b |', '|---|---|---|', '| TTL | **no**: Unknown / op | yes (ENABLED) |'].join('\n'),
    );
  });

  it('when an emulator lacks a check, it says n/a', () => {
    const table = fidelityTable([
      { emulator: 'a', checks: [{ name: 'GSI', passed: true, detail: 'ok' }] },
      { emulator: 'b', checks: [] },
    ]);
    expect(table.split('\n')[2]).toBe('| GSI | yes (ok) | n/a |');
  });
});
