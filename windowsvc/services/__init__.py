"""Use cases. Each public function is one transaction; nothing above this layer commits."""
