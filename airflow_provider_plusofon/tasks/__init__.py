"""What every task of this provider shares: a hook from its connection id, and specs from its
templated ``webhooks`` argument, masked where Airflow renders them."""
