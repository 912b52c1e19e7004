# The cells tests/test_add_a_check.py inserts into notebooks/lab_2b_students.py (of a temporary copy),
# right after the hidden test of lab_per_tier_ece: the instructions, the answer cell and the hidden test.
# np and the rest come from the notebook's earlier cells, as in every part:
# ruff: noqa: F821

# %% [markdown]
# ### Adaptive ECE
#
# Equal-width bins leave most rows in the top bins. Write `adaptive_ece(probs, labels, n_bins=10)`: sort the
# rows by top-1 confidence, split them into `n_bins` bins of equal count (`np.array_split`), and weight each
# bin's |accuracy - mean confidence| by its share of the rows.

# %% role="solution" grade_id="lab_adaptive_ece_answer"
def adaptive_ece(probs, labels, n_bins=10):
    ### BEGIN SOLUTION
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    bins = np.array_split(np.argsort(conf, kind="stable"), n_bins)
    return float(sum(len(b) / len(conf) * abs(correct[b].mean() - conf[b].mean()) for b in bins if len(b)))
    ### END SOLUTION

# %% role="hidden_test" check="lab_adaptive_ece" skill="adaptive (equal-mass) expected calibration error"
