"""Check specs of notebook 03 (DQN): exploration schedule, replay, TD target, loss, target net.

The learning run of the five functions together is :mod:`autograder.judge.specs.dqn_learning`.

Each ``_bug_*`` is a self-contained plausible wrong implementation with its hint;
``tests/test_bug_bank.py`` proves every one is caught and named. Torch outputs are compared as
plain numbers: a case's ``run`` (a procedure of :mod:`autograder.box.procedures.dqn`, the half
that runs in the sandbox) returns a dict of named values (the loss, its gradient, whether a
gradient reaches the target, ...), and :func:`fields` compares them name by name here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.procedures.dqn import (
    SAMPLE_FIELDS,
    epsilon_run,
    loss_run,
    sample_run,
    td_run,
    update_run,
)
from autograder.judge.core import Bug, Case, CheckSpec, Comparator, allclose, register
from rlkit.agents import dqn
from rlkit.buffers import Batch, ReplayBuffer
from rlkit.schedules import LinearSchedule


def fields(compare: Comparator | None = None, **per_field: Comparator) -> Comparator:
    """Compare two dicts of named values, each with ``compare`` (or its own comparator)."""
    default = compare or allclose(rtol=1e-5, atol=1e-6)

    def compare_fields(got: Any, expected: dict[str, Any]) -> str | None:
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"expected the values {sorted(expected)}, got {got!r:.200}"
        for name, value in expected.items():
            problem = per_field.get(name, default)(got[name], value)
            if problem:
                return f"{name}: {problem}"
        return None

    return compare_fields


# --- linear_epsilon


def _epsilon_case(start: float, end: float, decay: int, steps: list[int]) -> Case:
    return Case(f"start {start}, end {end}, decay over {decay} steps, at steps {steps}",
                run=epsilon_run(start, end, decay, steps),
                expected=np.array([LinearSchedule(start, end, decay)(t) for t in steps]))


def _epsilon_cases() -> list[Case]:
    return [
        _epsilon_case(1.0, 0.05, 10_000, [0, 2_500, 5_000, 9_999, 10_000, 50_000]),
        _epsilon_case(1.0, 0.1, 10, [0, 1, 5, 10, 11]),
        _epsilon_case(0.5, 0.5, 100, [0, 50, 200]),
        _epsilon_case(1.0, 0.0, 3, [0, 1, 2, 3, 4]),
        _epsilon_case(0.1, 1.0, 10, [0, 5, 10, 20]),  # a schedule may rise
        _epsilon_case(1.0, 0.05, 0, [0, 1, 7]),  # no decay: `end` from step 0
    ]


def _epsilon_hidden(rng: np.random.Generator) -> list[Case]:
    decay = int(rng.integers(5, 5_000))
    start, end = sorted(rng.uniform(0, 1, size=2))[::-1]
    return [_epsilon_case(float(start), float(end), decay,
                          sorted(int(x) for x in rng.integers(0, 2 * decay, size=6)))]


def _bug_eps_no_clamp(step, start, end, decay_steps):
    return start + (end - start) * step / decay_steps


def _bug_eps_reversed(step, start, end, decay_steps):
    return end + (start - end) * min(1.0, step / decay_steps)


def _bug_eps_integer_division(step, start, end, decay_steps):
    return start + (end - start) * min(1, step // decay_steps)


def _bug_eps_exponential(step, start, end, decay_steps):
    return max(end, start * 0.999**step)


def _bug_eps_off_by_one(step, start, end, decay_steps):
    return start + (end - start) * min(1.0, step / (decay_steps + 1))


def _bug_eps_divides_by_zero(step, start, end, decay_steps):
    return start + (end - start) * min(1.0, step / decay_steps)


def _bug_eps_ends_early(step, start, end, decay_steps):
    if step >= decay_steps - 1:
        return end
    return start + (end - start) * step / decay_steps


def _bug_eps_starts_at_end(step, start, end, decay_steps):
    return end + (end - start) * min(1.0, step / max(decay_steps, 1))


def _bug_eps_max_clamp(step, start, end, decay_steps):
    if decay_steps == 0:
        return end
    return max(end, start + (end - start) * step / decay_steps)


LINEAR_EPSILON = CheckSpec(
    name="dqn.linear_epsilon",
    function="linear_epsilon",
    points=1,
    reference=dqn.linear_epsilon,
    visible_cases=_epsilon_cases,
    hidden_cases=_epsilon_hidden,
    bugs=(
        Bug("no_clamp", _bug_eps_no_clamp,
            "After decay_steps, epsilon stays at `end`: clamp the fraction at 1."),
        Bug("reversed", _bug_eps_reversed, "Epsilon starts at `start` and decays to `end`."),
        Bug("integer_division", _bug_eps_integer_division,
            "step // decay_steps (or int(step / decay_steps)) is 0 until the end: keep the "
            "fraction, true division step / decay_steps."),
        Bug("exponential", _bug_eps_exponential,
            "The schedule is linear: start + (end - start) * min(1, step / decay_steps)."),
        Bug("off_by_one", _bug_eps_off_by_one,
            "Epsilon reaches `end` exactly at step == decay_steps."),
        Bug("clamps_with_max", _bug_eps_max_clamp,
            "max(end, ...) clamps only a falling schedule: a schedule that rises (start < "
            "end) passes `end` and keeps going; clamp the fraction instead, min(1, step / "
            "decay_steps)."),
        Bug("divides_by_zero", _bug_eps_divides_by_zero,
            "At decay_steps = 0 (no decay) epsilon is `end` from step 0: return `end` once "
            "step >= decay_steps, before dividing, so step / decay_steps never divides by "
            "zero."),
        Bug("ends_one_step_early", _bug_eps_ends_early,
            "Epsilon reaches `end` exactly at step == decay_steps, not one step earlier: the "
            "test is step >= decay_steps."),
        Bug("starts_at_end", _bug_eps_starts_at_end,
            "Epsilon starts at `start` (step 0 gives `start`) and moves by (end - start) * "
            "step / decay_steps from there."),
    ),
    hint="epsilon(t) = start + (end - start) * min(1, t / decay_steps).",
)

# --- sample_batch

_DRAWS = 2000


def _sample_problem(raw: Any) -> str | None:
    """Why sampled batches are not transitions of the buffer (None: every field lines up).

    Transition i of the test buffer stores obs = action = reward = i, next_obs = i + 1,
    terminated = (i % 3 == 0), truncated = (i % 5 == 0): each field is checked against the
    obs it was sampled with, and the reason names the fields that do not belong to it.
    """
    ids = np.asarray(raw["obs"])
    own = {"actions": ids, "rewards": ids, "next_obs": ids + 1,
           "terminated": (ids.astype(int) % 3 == 0).astype(float),
           "truncated": (ids.astype(int) % 5 == 0).astype(float)}
    wrong = [name for name, value in own.items() if not np.array_equal(raw[name], value)]
    if {"actions", "rewards"} & set(wrong):
        return ("the fields of one sampled transition come from different transitions: draw "
                "one index array and use it for every field")
    if wrong:
        return (f"the sampled {' and '.join(wrong)} are not those of the sampled transitions: "
                f"take each field from its own array of the buffer ({', '.join(wrong)})")
    return None


def _frequencies(raw: Any, capacity: int) -> np.ndarray:
    """How often each slot was drawn (transition i sits in slot i mod capacity)."""
    counts = np.zeros(capacity)
    np.add.at(counts, np.asarray(raw["obs"]).astype(int).ravel() % capacity, 1)
    return counts / max(counts.sum(), 1)


def _is_sample(raw: Any) -> bool:
    return isinstance(raw, dict) and set(raw) == set(SAMPLE_FIELDS)


def _sample_compare(capacity: int, bound: float) -> Any:
    """Sampled batches against the uniform frequencies: fields line up, frequencies close."""
    close = allclose(rtol=0.0, atol=bound)

    def compare(got: Any, expected: Any) -> str | None:
        if not _is_sample(got):
            return f"expected sampled batches, got {got!r:.100}"
        problem = _sample_problem(got)
        if _is_sample(expected):  # matching a known bug's batches: the same kind of wrong
            other = _sample_problem(expected)
            if problem or other:
                return None if problem == other else (problem or other)
            expected = _frequencies(expected, capacity)
        elif problem:
            return problem
        return close(_frequencies(got, capacity), expected)

    return compare


def _sample_case(name: str, capacity: int, n_added: int, batch_size: int, seed: int) -> Case:
    size = min(capacity, n_added)
    expected = np.zeros(capacity)
    expected[:size] = 1.0 / size
    p = 1.0 / size
    bound = 5.0 * np.sqrt(p * (1 - p) / (_DRAWS * batch_size)) + 1e-12
    return Case(name, run=sample_run(capacity, n_added, batch_size, seed, _DRAWS),
                expected=expected, compare=_sample_compare(capacity, bound))


def _sample_cases() -> list[Case]:
    return [
        _sample_case("a buffer of capacity 8 holding 5 transitions, batches of 8", 8, 5, 8, 1),
        _sample_case("a full buffer that wrapped around (capacity 6, 10 added), batches of 4",
                     6, 10, 4, 2),
        _sample_case("a single transition, batches of 3", 4, 1, 3, 3),
    ]


def _sample_hidden(rng: np.random.Generator) -> list[Case]:
    capacity = int(rng.integers(4, 12))
    return [_sample_case("hidden: a random buffer", capacity, int(rng.integers(2, 2 * capacity)),
                         int(rng.integers(2, 9)), int(rng.integers(1 << 30)))]


def _bug_sample_whole_capacity(buffer, batch_size, rng):
    from rlkit.buffers import Batch

    i = rng.integers(0, buffer.capacity, size=batch_size)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def _bug_sample_misaligned(buffer, batch_size, rng):
    from rlkit.buffers import Batch

    def pick(field):
        return field[rng.integers(0, len(buffer), size=batch_size)]

    return Batch(pick(buffer.obs), pick(buffer.actions), pick(buffer.rewards),
                 pick(buffer.next_obs), pick(buffer.terminated), pick(buffer.truncated))


def _bug_sample_most_recent(buffer, batch_size, rng):
    from rlkit.buffers import Batch

    i = (np.arange(-batch_size, 0) + buffer._next) % len(buffer)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def _bug_sample_excludes_last(buffer, batch_size, rng):
    from rlkit.buffers import Batch

    i = rng.integers(0, max(len(buffer) - 1, 1), size=batch_size)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def _bug_sample_first_slots(buffer, batch_size, rng):
    from rlkit.buffers import Batch

    i = np.sort(rng.integers(0, len(buffer), size=batch_size))[: max(1, batch_size // 2)]
    i = np.resize(i, batch_size)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def _bug_sample_without_replacement(buffer, batch_size, rng):
    index = rng.choice(len(buffer), size=batch_size, replace=False)
    return Batch(buffer.obs[index], buffer.actions[index], buffer.rewards[index],
                 buffer.next_obs[index], buffer.terminated[index], buffer.truncated[index])


def _sample_reference(buffer: ReplayBuffer, batch_size: int, rng: np.random.Generator) -> Batch:
    return buffer.sample(batch_size, rng)


def _bug_sample_merges_done(buffer, batch_size, rng):
    index = rng.integers(0, len(buffer), size=batch_size)
    done = buffer.terminated[index] | buffer.truncated[index]
    return Batch(buffer.obs[index], buffer.actions[index], buffer.rewards[index],
                 buffer.next_obs[index], done, buffer.truncated[index])


def _bug_sample_next_row(buffer, batch_size, rng):
    index = rng.integers(0, len(buffer), size=batch_size)
    following = np.minimum(index + 1, len(buffer) - 1)
    return Batch(buffer.obs[index], buffer.actions[index], buffer.rewards[index],
                 buffer.obs[following], buffer.terminated[index], buffer.truncated[index])


SAMPLE_BATCH = CheckSpec(
    name="dqn.sample_batch",
    function="sample_batch",
    points=2,
    reference=_sample_reference,
    withhold=("rlkit.agents.dqn.sample_batch", "rlkit.buffers.ReplayBuffer.sample"),
    visible_cases=_sample_cases,
    hidden_cases=_sample_hidden,
    bugs=(
        Bug("whole_capacity", _bug_sample_whole_capacity,
            "Sample only the filled part of the buffer: indices in [0, len(buffer)), not "
            "[0, capacity) — the empty slots hold zeros, not experience."),
        Bug("misaligned", _bug_sample_misaligned,
            "Draw ONE array of indices and index every field with it, so s, a, r, s' belong "
            "to the same transition."),
        Bug("most_recent", _bug_sample_most_recent,
            "Replay samples uniformly at random from the whole memory; the latest transitions "
            "are strongly correlated, which is what replay is there to break."),
        Bug("excludes_last", _bug_sample_excludes_last,
            "rng.integers(0, n) already excludes n: use len(buffer), not len(buffer) - 1."),
        Bug("first_slots", _bug_sample_first_slots,
            "Every transition in the batch should be an independent uniform draw."),
        Bug("merges_done", _bug_sample_merges_done,
            "Keep `terminated` and `truncated` apart: the batch's terminated field is "
            "buffer.terminated (a time-out, truncated, is not the end of the MDP)."),
        Bug("next_row_as_next_obs", _bug_sample_next_row,
            "s' of transition i is buffer.next_obs[i]; buffer.obs[i + 1] is another "
            "transition (and after an episode's end, another episode)."),
        Bug("without_replacement", _bug_sample_without_replacement,
            "Draw with replacement: replay draws each transition of a batch independently, "
            "and a batch may be larger than the filled buffer (rng.choice(..., "
            "replace=False) fails then); use rng.integers(0, len(buffer), batch_size)."),
    ),
    hint="Every transition of a batch is an independent uniform draw from the filled slots: "
    "rng.integers(0, len(buffer), batch_size). Compared are how often each stored transition "
    "is drawn over 2000 batches with the uniform distribution over the filled slots.",
)

# --- td_target


def _td_case(name: str, rewards, next_q, terminated, gamma: float) -> Case:
    return Case(name, run=td_run(rewards, next_q, terminated, gamma))


def _td_reference(rewards, next_q_values, terminated, gamma):
    # The target is a constant of the loss: no gradient may flow into Q(s', .).
    return dqn.td_target(rewards, next_q_values, terminated, gamma).detach()


def _td_cases() -> list[Case]:
    next_q = [[1.0, 3.0], [2.0, -1.0], [0.5, 0.5], [-2.0, -1.0]]
    return [
        _td_case("4 transitions, none terminal, gamma 0.9", [1.0, 0.0, -1.0, 2.0], next_q,
                 [0, 0, 0, 0], 0.9),
        _td_case("terminal transitions (2nd and 4th) do not bootstrap", [1.0, 0.0, -1.0, 2.0],
                 next_q, [0, 1, 0, 1], 0.9),
        _td_case("gamma 0: the target is the reward", [1.0, 2.0], [[5.0, 6.0], [7.0, 8.0]],
                 [0, 0], 0.0),
        _td_case("gamma 1, 3 actions", [0.5, 0.5], [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], [0, 1],
                 1.0),
    ]


def _td_hidden(rng: np.random.Generator) -> list[Case]:
    b, a = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    return [_td_case("hidden: a random batch", rng.normal(size=b).tolist(),
                     rng.normal(size=(b, a)).tolist(), rng.integers(0, 2, size=b).tolist(),
                     float(rng.uniform(0.5, 1.0)))]


def _bug_td_no_mask(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * next_q_values.max(dim=1).values).detach()


def _bug_td_mask_inverted(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * terminated * next_q_values.max(dim=1).values).detach()


def _bug_td_masks_reward(rewards, next_q_values, terminated, gamma):
    return ((rewards + gamma * next_q_values.max(dim=1).values) * (1 - terminated)).detach()


def _bug_td_mean(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * (1 - terminated) * next_q_values.mean(dim=1)).detach()


def _bug_td_argmax(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * (1 - terminated) * next_q_values.argmax(dim=1).float()).detach()


def _bug_td_max_over_batch(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * (1 - terminated) * next_q_values.max(dim=0).values).detach()


def _bug_td_gradient(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_values.max(dim=1).values


TD_TARGET = CheckSpec(
    name="dqn.td_target",
    function="td_target",
    points=2,
    reference=_td_reference,
    withhold=("rlkit.agents.dqn.td_target",),
    visible_cases=_td_cases,
    hidden_cases=_td_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-6)),
    bugs=(
        Bug("no_terminal_mask", _bug_td_no_mask,
            "A terminal s' has no future: y = r there. Multiply the bootstrap by "
            "(1 - terminated)."),
        Bug("mask_inverted", _bug_td_mask_inverted,
            "The bootstrap is kept for NON-terminal transitions: (1 - terminated), not "
            "terminated."),
        Bug("masks_reward", _bug_td_masks_reward,
            "The reward of the last step still counts: only gamma * max Q(s', .) is masked."),
        Bug("mean_not_max", _bug_td_mean,
            "Q-learning's target uses the best next action: max over a', not the mean."),
        Bug("argmax_not_max", _bug_td_argmax,
            "argmax returns an action index; the target needs the value max_{a'} Q(s', a')."),
        Bug("max_over_batch", _bug_td_max_over_batch,
            "Take the max over the ACTIONS of each next state, next_q_values.max(dim=1), not "
            "dim=0 (that is over the batch): next_q_values has shape (B, A)."),
        Bug("gradient_through_target", _bug_td_gradient,
            "The target is a constant of the loss: .detach() it (or compute it under "
            "torch.no_grad()), else the gradient also moves Q(s', .)."),
    ),
    hint="y = r + gamma * (1 - terminated) * max_{a'} Q_target(s', a'), detached.",
)

# --- dqn_loss


def _loss_reference(q_values, actions, targets):
    return dqn.dqn_loss(q_values, actions, targets.detach())


def _loss_cases() -> list[Case]:
    q = [[1.0, 2.0], [0.0, 5.0], [3.0, -1.0]]
    return [
        Case("small errors (|y - Q| < 1): half the squared error",
             run=loss_run(q, [1, 0, 0], [2.5, 0.5, 3.2])),
        Case("large errors (|y - Q| > 1): the linear part of the Huber loss",
             run=loss_run(q, [0, 1, 1], [4.0, 1.0, 2.0])),
        Case("a batch of one", run=loss_run([[0.0, 1.0, 2.0]], [2], [0.0])),
    ]


def _loss_hidden(rng: np.random.Generator) -> list[Case]:
    b, a = int(rng.integers(3, 9)), int(rng.integers(2, 5))
    return [Case("hidden: a random batch",
                 run=loss_run((2 * rng.normal(size=(b, a))).tolist(),
                               rng.integers(0, a, size=b).tolist(),
                               (2 * rng.normal(size=b)).tolist()))]


def _bug_loss_mse(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return ((chosen - targets.detach()) ** 2).mean()


def _bug_loss_max_action(q_values, actions, targets):
    import torch.nn.functional as F  # noqa: N812

    return F.smooth_l1_loss(q_values.max(dim=1).values, targets.detach())


def _bug_loss_sum(q_values, actions, targets):
    import torch.nn.functional as F  # noqa: N812

    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(chosen, targets.detach(), reduction="sum")


def _bug_loss_all_actions(q_values, actions, targets):
    import torch.nn.functional as F  # noqa: N812

    return F.smooth_l1_loss(q_values, targets.detach().unsqueeze(1).expand_as(q_values))


def _bug_loss_no_detach(q_values, actions, targets):
    import torch.nn.functional as F  # noqa: N812

    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(chosen, targets)


def _bug_loss_absolute(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return (chosen - targets.detach()).abs().mean()


def _bug_loss_no_squeeze(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1))  # (B, 1)
    size = (chosen - targets.detach()).abs()  # (B, 1) - (B,) broadcasts to (B, B)
    return torch.where(size < 1.0, 0.5 * size**2, size - 0.5).mean()


def _bug_loss_all_pairs(q_values, actions, targets):
    size = (q_values[:, actions] - targets.detach()).abs()  # (B, B): Q(s_i, a_j) - y_j
    return torch.where(size < 1.0, 0.5 * size**2, size - 0.5).mean()


def _bug_loss_half_squared(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return 0.5 * ((chosen - targets.detach()) ** 2).mean()


DQN_LOSS = CheckSpec(
    name="dqn.dqn_loss",
    function="dqn_loss",
    points=2,
    reference=_loss_reference,
    withhold=("rlkit.agents.dqn.dqn_loss",),
    visible_cases=_loss_cases,
    hidden_cases=_loss_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-6)),
    bugs=(
        Bug("mse_not_huber", _bug_loss_mse,
            "Use the Huber loss (F.smooth_l1_loss): squared for small errors, linear beyond 1, "
            "so a large TD error cannot blow up the step."),
        Bug("max_action", _bug_loss_max_action,
            "Regress Q(s, a) of the action that was TAKEN (q_values.gather(1, "
            "actions.unsqueeze(1))), not max_a Q(s, a)."),
        Bug("sum_not_mean", _bug_loss_sum,
            "Average over the batch (the default reduction='mean')."),
        Bug("all_actions", _bug_loss_all_actions,
            "Only the taken action's Q-value has a target; pick it with gather."),
        Bug("no_detach", _bug_loss_no_detach,
            "Detach the targets inside the loss: the gradient must not reach them."),
        Bug("absolute_error", _bug_loss_absolute,
            "That is the mean absolute error: the Huber loss is quadratic (x^2 / 2) for |x| "
            "<= 1 and linear only beyond; use F.smooth_l1_loss."),
        Bug("half_squared", _bug_loss_half_squared,
            "Half the squared error is the Huber loss only for |x| <= 1: beyond it the Huber "
            "loss is linear, |x| - 1/2 (F.smooth_l1_loss)."),
        Bug("no_squeeze", _bug_loss_no_squeeze,
            "q_values.gather(1, actions.unsqueeze(1)) has shape (B, 1): against targets of "
            "shape (B,) it broadcasts to (B, B), every Q-value paired with every target. "
            "Squeeze it: .squeeze(1)."),
        Bug("all_pairs", _bug_loss_all_pairs,
            "q_values[:, actions] is a (B, B) matrix (every state with every taken action): "
            "pick one entry per row, q_values.gather(1, actions.unsqueeze(1)).squeeze(1) or "
            "q_values[torch.arange(B), actions]."),
    ),
    hint="loss = F.smooth_l1_loss(Q(s, a) for the taken a, targets.detach()); compared are the "
    "loss, its gradient with respect to the Q-values, and whether a gradient reaches the targets.",
)

# --- update_target


def _update_cases() -> list[Case]:
    return [
        Case("tau = 1 (the default): copy the online weights", run=update_run(1, None)),
        Case("tau = 1 given explicitly", run=update_run(2, 1.0)),
        Case("tau = 0.1: Polyak averaging", run=update_run(3, 0.1)),
        Case("tau = 0.5", run=update_run(4, 0.5)),
    ]


def _update_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case("hidden: a random tau", run=update_run(int(rng.integers(1 << 30)),
                                                         float(rng.uniform(0.01, 0.99))))]


def _bug_update_reversed(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            p.copy_(tau * tp + (1 - tau) * p)


def _bug_update_ignores_tau(online, target, tau=1.0):
    target.load_state_dict(online.state_dict())


def _bug_update_swapped_weights(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.copy_(tau * tp + (1 - tau) * p)


def _bug_update_aliases(online, target, tau=1.0):
    for p, tp in zip(online.parameters(), target.parameters(), strict=True):
        tp.data = tau * p.data + (1 - tau) * tp.data if tau < 1 else p.data


def _bug_update_rebinds(online, target, tau=1.0):
    import copy

    target = copy.deepcopy(online)  # noqa: F841 (the bug: rebinds the local name only)
    return None


def _bug_update_first_only(online, target, tau=1.0):
    with torch.no_grad():
        param, target_param = next(zip(online.parameters(), target.parameters(), strict=True))
        target_param.copy_(tau * param + (1 - tau) * target_param)


UPDATE_TARGET = CheckSpec(
    name="dqn.update_target",
    function="update_target",
    points=2,
    reference=dqn.update_target,
    in_place=True,  # updating the target network's parameters in place is the point
    visible_cases=_update_cases,
    hidden_cases=_update_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-6)),
    bugs=(
        Bug("reversed", _bug_update_reversed,
            "Move the TARGET towards the online net; the online net is not changed here."),
        Bug("ignores_tau", _bug_update_ignores_tau,
            "With tau < 1 the target moves only part of the way: tau * theta + (1 - tau) * "
            "theta_target."),
        Bug("swapped_weights", _bug_update_swapped_weights,
            "tau weighs the ONLINE parameters: theta_target <- tau * theta + (1 - tau) * "
            "theta_target."),
        Bug("aliases_online", _bug_update_aliases,
            "tp.data = p.data makes both nets share one tensor, so the 'fixed' target moves "
            "with every online step; copy the values (tp.copy_(p)) under torch.no_grad()."),
        Bug("rebinds_local_name", _bug_update_rebinds,
            "Assigning `target = ...` inside the function changes nothing outside it: update the "
            "target's parameters in place."),
        Bug("first_parameter_only", _bug_update_first_only,
            "Update every parameter pair (loop over zip(online.parameters(), "
            "target.parameters())), not only the first one."),
    ),
    hint="Under torch.no_grad(), for each parameter pair: target_p.copy_(tau * p + (1 - tau) * "
    "target_p) (or target_p.lerp_(p, tau)).",
)


register(LINEAR_EPSILON, SAMPLE_BATCH, TD_TARGET, DQN_LOSS, UPDATE_TARGET)
