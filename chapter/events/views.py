"""Event pages (officers', public, members'): see the view modules imported below."""
