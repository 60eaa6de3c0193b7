"""What each operation does: plain async functions taking the viewer first."""
