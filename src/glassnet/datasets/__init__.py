"""Loaders of real data (original public formats) and the papers' synthetic generators."""

from glassnet.datasets._base import ENV_VAR, data_dir, require_file
from glassnet.datasets.clinical import load_cervical_cancer
from glassnet.datasets.genes import GENE_EXPRESSION_SETS, load_brain_tumor1, load_gene_expression
from glassnet.datasets.images import (
    load_image_folder,
    load_mnist,
    load_skimage_images,
    read_idx,
)
from glassnet.datasets.multiview import (
    MULTIVIEW_SETS,
    load_dsrl_graph,
    load_multiview,
    make_multiview_mixture,
)
from glassnet.datasets.synthetic import (
    make_integrative_simulation,
    make_irls_admm_simulation,
    make_related_datasets,
    make_spinn_simulation,
)

__all__ = [
    "ENV_VAR",
    "GENE_EXPRESSION_SETS",
    "MULTIVIEW_SETS",
    "data_dir",
    "load_brain_tumor1",
    "load_cervical_cancer",
    "load_dsrl_graph",
    "load_gene_expression",
    "load_image_folder",
    "load_mnist",
    "load_multiview",
    "load_skimage_images",
    "make_integrative_simulation",
    "make_irls_admm_simulation",
    "make_multiview_mixture",
    "make_related_datasets",
    "make_spinn_simulation",
    "read_idx",
    "require_file",
]
