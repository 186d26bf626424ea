"""The Admin Portal: pages where a customer's IT admin sets up SCIM for their
own organization, opened through a one-time link the vendor's app creates."""
