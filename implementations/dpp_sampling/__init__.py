"""Task ``dpp_sampling``: diverse row sampling for weighted least squares.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods. A method sees a tall ``A`` (never the target ``b``) and draws
``n = factor m`` rows with weights; the score fits the weighted least squares on them and
measures its excess risk over the full fit (the float64 Householder-QR reference) and the
fewest draws whose fit reaches a quasi-optimality constant. Samplers: i.i.d. uniform and
leverage-score sampling (reweighted or not), exact projection DPPs by the chain rule
(Hough, Krishnapur, Peres and Virág 2006; Kulesza and Taskar 2012) repeated with optimal
weights (Nouy and Michel 2023), volume sampling and leveraged volume-rescaled sampling
(Dereziński, Warmuth and Hsu 2019). Generators: Gaussian, coherent (log-normal row
scales), real transformer embeddings and polynomial features of real data sets, each with
a nonlinear target so that the best fit has a nonzero residual.
"""
