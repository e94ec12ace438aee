"""Every code the kernels return or read, in one place at the bottom of the kernel layer.

Status codes (one per node or batch row) say how an equilibrium ended; boundary codes
say what a boundary face does with each component; Onsager codes say which form the
cross terms take; averaging codes which scheme the homogenization model uses;
``advance`` returns an ADV_* code and fills the S_* slots of its statistics array.
Python turns them into messages (``STATUS_TEXT``) and exceptions;
kernels never raise.
"""

from __future__ import annotations

# status codes returned by the kernels (one per node)
STATUS_OK = 0
STATUS_T_RANGE = 1
STATUS_BAD_COMPOSITION = 2
STATUS_NOT_CONVERGED = 3
STATUS_SINGULAR = 4
STATUS_NAN = 5
STATUS_OUTSIDE_PHASE = 6
STATUS_ONSAGER = 7
STATUS_PHASE_SET = 8
STATUS_OUTSIDE_PHASES = 9
STATUS_SPINODAL = 10
STATUS_NEEDS_MINIMISE = 11
STATUS_NO_MATRIX = 12

STATUS_TEXT = {
    STATUS_OK: "converged",
    STATUS_T_RANGE: "temperature outside the database's range",
    STATUS_BAD_COMPOSITION: "mole fractions not in (0, 1) or not summing to 1",
    STATUS_NOT_CONVERGED: "single-phase equilibrium did not converge",
    STATUS_SINGULAR: "singular equilibrium (KKT) system",
    STATUS_NAN: "NaN or infinity in the Gibbs energy or its derivatives",
    STATUS_OUTSIDE_PHASE: "composition cannot be represented by the phase's sublattices",
    STATUS_ONSAGER: "Onsager matrix L' (mobilities plus the case's cross terms) is not positive semi-definite",
    STATUS_PHASE_SET: "no stable phase set found (phases kept being added and removed, or the Newton "
    "iterations on the phase set did not converge)",
    STATUS_OUTSIDE_PHASES: "composition outside the range the candidate phases can hold together",
    STATUS_SPINODAL: "inside the spinodal: the thermodynamic factor dmu_dx is not positive definite, and "
    "diffusion without gradient energy is ill-posed there",
    STATUS_NEEDS_MINIMISE: "the equilibrium kernel was compiled without the minimisation this phase (internal "
    "degrees of freedom) needs: a kinsim bug (kinsim.kernels.kkt.minimise_flag)",
    STATUS_NO_MATRIX: "the matrix phase of the homogenization model (homogenization.matrix) is absent where several "
    "phases coexist: the model's assumption of a continuous matrix does not hold there",
}

# boundary face kinds (per side and component)
BC_CLOSED = 0
BC_COMPOSITION = 1
BC_FLUX = 2
BC_POTENTIAL = 3
BC_ACTIVITY = 4
BC_PERIODIC = 5  # both sides: the last node is the left neighbour of the first

# Onsager cross terms (the form of the case's off-diagonal L'_kj)
ONSAGER_DIAGONAL = 0  # none: L' is diagonal
ONSAGER_ABSOLUTE = 1  # L'_kj given in mol^2/(J m s)
ONSAGER_RELATIVE = 2  # L'_kj = r_kj sqrt(L'_kk L'_jj)

# the face value of a diagonal L' between two states (Material.face_mean, kinsim.kernels.flux)
FACE_ARITHMETIC = 0
FACE_GEOMETRIC = 1

# averaging schemes of the homogenization model (kinsim.kernels.averaging)
AVG_WIENER_UPPER = 0  # rule of mixtures: sum f Gamma
AVG_WIENER_LOWER = 1  # series: 1 / sum (f / Gamma)
AVG_HS_UPPER = 2  # general Hashin-Shtrikman bound, the phase of highest Gamma as the matrix
AVG_HS_LOWER = 3  # general Hashin-Shtrikman bound, the phase of lowest Gamma as the matrix
AVG_HS_MATRIX = 4  # Hashin-Shtrikman with a given matrix phase
AVG_LABYRINTH = 5  # f_matrix^exponent Gamma_matrix

# return codes of advance()
ADV_REACHED = 0
ADV_MAX_STEPS = 1
ADV_NODE_FAILED = 2
ADV_DT_UNDERFLOW = 3
ADV_T_RANGE = 4
ADV_BOUNDARY_FAILED = 5

# stats slots
S_STEPS = 0
S_REJECTED = 1
S_NEWTON = 2
S_FAIL_NODE = 3
S_FAIL_STATUS = 4
N_STATS = 5  # length of the statistics array

# the moving-boundary model (kinsim.kernels.moving): advance() stops when a region has
# shrunk to nothing (the region in the S_FAIL_NODE slot), for Python to remove it
ADV_REGION_VANISHED = 6

# walls between regions (and the specimen's ends), per wall
WALL_END = 0  # an outer end of the specimen: fixed, the boundary condition of its side
WALL_LOCAL_EQ = 1  # a moving interface at local equilibrium: every chemical potential equal
WALL_PARA_EQ = 2  # a moving interface at para-equilibrium: substitutional u equal, interstitial mu equal
WALL_MERGED = 3  # a fixed face between two regions of one phase (after the region between them vanished)
WALL_GONE = 4  # no longer a wall (it met another one when the region between them vanished)
