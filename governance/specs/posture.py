"""policies/posture.yaml: how the storage accounts and containers holding datasets must be configured."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from governance.specs.base import Spec


class StoragePosture(Spec):
    account: str = Field("*", description="a storage account name, or * for every account holding a dataset")
    encryption: Literal["microsoft-managed", "customer-managed"] | None = Field(
        None, description="encryption.keySource: Microsoft.Storage | Microsoft.Keyvault"
    )
    min_tls: Literal["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"] | None = Field(
        None, description="lowest accepted minimumTlsVersion"
    )
    public_blob_access: bool | None = Field(None, description="allowBlobPublicAccess")
    https_only: bool | None = Field(None, description="supportsHttpsTrafficOnly")
    public_network_access: Literal["Enabled", "Disabled"] | None = None
    container_public_access: bool = Field(
        False, description="whether a container holding a dataset may have publicAccess other than None"
    )
    description: str | None = None


class PostureFile(Spec):
    storage: list[StoragePosture] = Field(default_factory=list)
