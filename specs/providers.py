"""The one registration a provider needs: its name, and the module of its model (its spec is specs/<name>.yaml).

Kept free of imports so that the pytest plugin can list providers without loading anything.
"""

PROVIDER_MODULES = {
    "stiply": "esign_contracts.mocks.stiply",
    "ignisign": "esign_contracts.mocks.ignisign",
    "okdokument": "esign_contracts.mocks.okdokument",
    "trustedx": "esign_contracts.mocks.trustedx",
    "signix": "esign_contracts.mocks.signix",
}
