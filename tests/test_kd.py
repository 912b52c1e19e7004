"""helpers.kd: the course's KD loss and the bug-hunt loss (COURSE.md, "Conventions")."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.kd import colleague_kd_loss, kd_loss, kd_loss_terms


def _batch(n=8, k=11, seed=0, scale=3.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    s = (torch.randn(n, k, generator=g, dtype=torch.float64) * scale).to(dtype)
    t = (torch.randn(n, k, generator=g, dtype=torch.float64) * scale).to(dtype)
    y = torch.randint(0, k, (n,), generator=g)
    return s, t, y


def _hand_kd(s, t, y, T_d, alpha):
    """The formula written out in float64 numpy, independent of torch.nn.functional."""
    s, t, y = (np.asarray(v.detach().double()) if v.dtype.is_floating_point else np.asarray(v)
               for v in (s, t, y))

    def log_softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    log_ps, log_pt = log_softmax(s / T_d), log_softmax(t / T_d)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(axis=1).mean()  # batchmean
    ce = -log_softmax(s)[np.arange(len(y)), y].mean()
    return alpha * T_d ** 2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T_d,alpha", [(1.0, 0.7), (4.0, 0.7), (8.0, 0.9), (2.5, 0.3)])
def test_matches_float64_hand_formula(T_d, alpha):
    s, t, y = _batch(seed=int(T_d * 10))
    got = kd_loss(s.double(), t.double(), y, T_d=T_d, alpha=alpha)
    assert got.dtype == torch.float32  # computed in float32 by contract
    assert float(got) == pytest.approx(_hand_kd(s, t, y, T_d, alpha), rel=1e-5, abs=1e-6)


def test_returns_scalar_with_gradient():
    s, t, y = _batch()
    s.requires_grad_(True)
    loss = kd_loss(s, t, y)
    assert loss.ndim == 0
    loss.backward()
    assert s.grad is not None and torch.isfinite(s.grad).all()


def test_gradcheck_in_float64(monkeypatch):
    # kd_loss computes in float32 by contract; gradcheck needs float64, so check
    # the same expression (kd_loss_terms) with the float32 cast made a no-op.
    s, t, y = _batch(n=4, k=5, seed=3, scale=1.0, dtype=torch.float64)
    monkeypatch.setattr(torch.Tensor, "float", lambda self: self)
    s.requires_grad_(True)

    def f(student):
        soft, hard = kd_loss_terms(student, t, y, T_d=3.0)
        return 0.7 * soft + 0.3 * hard

    assert f(s).dtype == torch.float64
    assert torch.autograd.gradcheck(f, (s,), eps=1e-6, atol=1e-8)
    # And the public loss's float32 gradient agrees with the float64 analytic one.
    monkeypatch.undo()
    g64, = torch.autograd.grad(f(s), s)
    s32 = s.detach().float().requires_grad_(True)
    kd_loss(s32, t.float(), y, T_d=3.0, alpha=0.7).backward()
    torch.testing.assert_close(s32.grad.double(), g64, rtol=1e-4, atol=1e-6)


def test_alpha_zero_is_cross_entropy():
    s, t, y = _batch(seed=5)
    torch.testing.assert_close(kd_loss(s, t, y, T_d=4.0, alpha=0.0), F.cross_entropy(s, y))


def test_alpha_one_is_T_squared_kl():
    s, t, y = _batch(seed=6)
    T = 4.0
    kl = F.kl_div(F.log_softmax(s / T, dim=-1), F.softmax(t / T, dim=-1), reduction="batchmean")
    torch.testing.assert_close(kd_loss(s, t, y, T_d=T, alpha=1.0), T ** 2 * kl)


def test_identical_teacher_and_student_give_zero_kl():
    s, _, y = _batch(seed=7)
    soft, hard = kd_loss_terms(s, s.clone(), y, T_d=4.0)
    assert abs(float(soft)) < 1e-5
    torch.testing.assert_close(kd_loss(s, s.clone(), y, T_d=4.0, alpha=0.7), 0.3 * hard)


def _soft_grad_norm(s, t, y, T, with_T2=True):
    s = s.clone().requires_grad_(True)
    soft, _ = kd_loss_terms(s, t, y, T_d=T)
    if not with_T2:
        soft = soft / T ** 2
    soft.backward()
    return float(s.grad.norm())


def test_T_squared_keeps_soft_gradient_scale_across_temperatures():
    # Logits of moderate size, so that for T >= 2 the high-temperature regime
    # (gradient ~ (s - t) / (K T^2)) holds and the T^2 factor cancels it.
    s, t, y = _batch(n=64, k=20, seed=8, scale=1.0)
    temps = (1.0, 2.0, 4.0, 8.0)
    with_t2 = np.array([_soft_grad_norm(s, t, y, T) for T in temps])
    without = np.array([_soft_grad_norm(s, t, y, T, with_T2=False) for T in temps])
    assert with_t2.max() / with_t2.min() < 2.0, with_t2
    # Without T^2 the soft gradient collapses roughly like 1 / T^2 (8^2 = 64).
    assert without[0] / without[-1] > 30, without
    np.testing.assert_allclose(without[1:] * np.array(temps[1:]) ** 2, with_t2[1:], rtol=1e-5)


def test_teacher_gets_no_gradient():
    s, t, y = _batch(seed=9)
    s.requires_grad_(True)
    t.requires_grad_(True)
    kd_loss(s, t, y).backward()
    assert t.grad is None
    assert s.grad is not None


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_give_float32_result(dtype):
    s, t, y = _batch(n=16, k=113, seed=10, dtype=dtype)
    got = kd_loss(s, t, y, T_d=4.0, alpha=0.7)
    assert got.dtype == torch.float32 and torch.isfinite(got)
    # Same values, upcast first: the low-precision inputs must not add error of their own.
    want = kd_loss(s.float(), t.float(), y, T_d=4.0, alpha=0.7)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_large_logits_at_T8_stay_finite(dtype):
    s, t, y = _batch(n=16, k=113, seed=11, scale=1.0)
    s = (torch.sign(s) * 1e4).to(dtype) if dtype == torch.float16 else s * 1e4
    t = (torch.sign(t) * 1e4).to(dtype) if dtype == torch.float16 else t * 1e4
    s.requires_grad_(True)
    loss = kd_loss(s, t, y, T_d=8.0, alpha=0.7)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(s.grad).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(teacher_logits=torch.zeros(8, 10)), "teacher_logits"),
    (dict(student_logits=torch.zeros(8)), "student_logits"),
    (dict(labels=torch.zeros(7, dtype=torch.long)), "labels"),
    (dict(labels=torch.full((8,), 11)), "labels"),
    (dict(labels=torch.full((8,), -1)), "labels"),
    (dict(T_d=0.0), "T_d"),
    (dict(T_d=-2.0), "T_d"),
    (dict(T_d=float("nan")), "T_d"),
    (dict(alpha=1.5), "alpha"),
    (dict(alpha=-0.1), "alpha"),
    (dict(alpha=float("nan")), "alpha"),
])
def test_invalid_inputs_raise_value_error_naming_the_argument(kwargs, match):
    s, t, y = _batch(n=8, k=11)
    args = dict(student_logits=s, teacher_logits=t, labels=y, T_d=4.0, alpha=0.7)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        kd_loss(**args)


@pytest.mark.parametrize("labels", [torch.zeros(8), torch.zeros(8, dtype=torch.bool)])
def test_non_integer_labels_raise_type_error(labels):
    s, t, _ = _batch(n=8, k=11)
    with pytest.raises(TypeError, match="labels"):
        kd_loss(s, t, labels)


def test_numpy_inputs_are_rejected_with_a_hint():
    s, t, y = _batch()
    with pytest.raises(TypeError, match="student_logits.*torch.as_tensor"):
        kd_loss(s.numpy(), t, y)


def test_colleague_loss_has_exactly_the_three_bugs():
    s, t, y = _batch(n=16, k=13, seed=12)
    T, alpha = 4.0, 0.7
    got = colleague_kd_loss(s, t, y, T_d=T, alpha=alpha)
    # By hand: kl_div's "input" should be log-probabilities; the colleague passes
    # probabilities, so the term is sum p_t * (log p_t - p_s) / batch.
    p_s = torch.softmax(s.double() / T, dim=-1)
    p_t = torch.softmax(t.double() / T, dim=-1)
    buggy_kl = (p_t * (p_t.log() - p_s)).sum() / s.shape[0]
    ce = F.cross_entropy(s.double(), y)
    hand = (1 - alpha) * buggy_kl + alpha * ce  # no T^2, weights swapped
    assert float(got) == pytest.approx(float(hand), rel=1e-5)
    assert abs(float(got) - float(kd_loss(s, t, y, T_d=T, alpha=alpha))) > 1e-2


@pytest.mark.parametrize("remaining", ["softmax_input", "no_T2", "swapped_weights"])
def test_each_colleague_bug_changes_the_loss_on_its_own(remaining):
    # With the other two bugs fixed, the one remaining still changes the value:
    # each of the three statements the students must flag is a real bug.
    s, t, y = _batch(n=16, k=13, seed=13)
    T, alpha = 4.0, 0.7
    p_s, p_t = F.softmax(s / T, dim=-1), F.softmax(t / T, dim=-1)
    kl_in = p_s if remaining == "softmax_input" else F.log_softmax(s / T, dim=-1)
    kl = F.kl_div(kl_in, p_t, reduction="batchmean") * (1.0 if remaining == "no_T2" else T ** 2)
    w_soft, w_hard = (1 - alpha, alpha) if remaining == "swapped_weights" else (alpha, 1 - alpha)
    one_bug = w_soft * kl + w_hard * F.cross_entropy(s, y)
    assert abs(float(one_bug) - float(kd_loss(s, t, y, T_d=T, alpha=alpha))) > 1e-2


def test_integer_T_d_and_alpha_are_accepted():
    # Integer-valued T_d and alpha (ints) are accepted: students write T_d=4.
    s, t, y = _batch()
    a = kd_loss(s, t, y, T_d=4, alpha=1)
    b = kd_loss(s, t, y, T_d=4.0, alpha=1.0)
    assert math.isclose(float(a), float(b))


def test_numpy_scalar_hyperparameters_are_accepted():
    # A grid read from an array hands over np.float32 / np.float64 scalars.
    s, t, y = _batch()
    want = kd_loss(s, t, y, T_d=4.0, alpha=0.7)
    torch.testing.assert_close(kd_loss(s, t, y, T_d=np.float32(4.0), alpha=np.float64(0.7)), want)
    with pytest.raises(ValueError, match="T_d"):
        kd_loss(s, t, y, T_d=True)
