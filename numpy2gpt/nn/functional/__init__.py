"""numpy2gpt.nn.functional: stateless neural-network ops (PyTorch's torch.nn.functional).

The hot ones (softmax, log_softmax, cross_entropy, layer_norm, gelu, scaled_dot_product_attention,
linear, embedding) are single fused Functions with hand-derived backward: that is where speed
comes from. Their math lives in numpy2gpt/kernels (a textbook reference and a fast kernel each);
they are tested fast against reference, and against PyTorch on either.
"""

from ...ops.elementwise import sigmoid, tanh  # noqa: F401
from ...ops.special import one_hot  # noqa: F401
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .embedding_bag import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .sampling import *  # noqa: F403
from .softmax import *  # noqa: F403
