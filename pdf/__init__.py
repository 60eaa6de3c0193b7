"""PDF documents rendered with fpdf2 and the Unicode fonts shipped in `pdf/fonts/`."""
