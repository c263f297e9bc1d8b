// Verbatim registry notification bodies captured from docker-registry 2.8.2 with skopeo 1.9.3
// (../shared/fixtures/registry-events, see its README), embedded so tests are hermetic.
#pragma once

namespace portunus::catalog::testdata {

// push-manifest-oci.json
inline constexpr char kPushManifestOci[] = R"JSON({
   "events": [
      {
         "id": "81890f62-054f-4d83-9ec4-54e165a96dd0",
         "timestamp": "2026-11-22T20:37:30.07876838Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 345,
            "digest": "sha256:49ce1e4e19ad23b4be19d708a64b6fc7bb64036bc68ab561fd3d8888dbfff422",
            "length": 345,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/manifests/sha256:49ce1e4e19ad23b4be19d708a64b6fc7bb64036bc68ab561fd3d8888dbfff422",
            "tag": "v1",
            "references": [
               {
                  "mediaType": "application/vnd.oci.image.config.v1+json",
                  "size": 404,
                  "digest": "sha256:9145669cf9dfa21f53d33ab4e36f2b9c3d7b28984c2432ec0fa89a538ca4def1"
               },
               {
                  "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "size": 641,
                  "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
               }
            ]
         },
         "request": {
            "id": "ce088ca2-ea1e-4e58-9f75-6378c0288a43",
            "addr": "127.0.0.1:50356",
            "host": "127.0.0.1:5000",
            "method": "PUT",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// push-manifest-docker-v2s2.json
inline constexpr char kPushManifestDockerV2s2[] = R"JSON({
   "events": [
      {
         "id": "680a20ef-0bd4-4275-bdd0-4aa99636a815",
         "timestamp": "2026-11-22T20:37:38.787605382Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "size": 423,
            "digest": "sha256:89f5c49f174ad98065c40218d2ffb24dc1f35ef0eb8cdf54b9ede25850e74407",
            "length": 423,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/manifests/sha256:89f5c49f174ad98065c40218d2ffb24dc1f35ef0eb8cdf54b9ede25850e74407",
            "tag": "v2",
            "references": [
               {
                  "mediaType": "application/vnd.docker.container.image.v1+json",
                  "size": 404,
                  "digest": "sha256:9145669cf9dfa21f53d33ab4e36f2b9c3d7b28984c2432ec0fa89a538ca4def1"
               },
               {
                  "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                  "size": 641,
                  "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
               }
            ]
         },
         "request": {
            "id": "f677e60e-3f46-484b-96e6-d37099478670",
            "addr": "127.0.0.1:37146",
            "host": "127.0.0.1:5000",
            "method": "PUT",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// push-blob-layer.json
inline constexpr char kPushBlobLayer[] = R"JSON({
   "events": [
      {
         "id": "bf999fc8-09f5-4611-93f4-11115e922ea7",
         "timestamp": "2026-11-22T20:37:30.039806666Z",
         "action": "push",
         "target": {
            "mediaType": "application/octet-stream",
            "size": 641,
            "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc",
            "length": 641,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/blobs/sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
         },
         "request": {
            "id": "63036c71-02cb-41ef-89da-eaf0c7d4490b",
            "addr": "127.0.0.1:50306",
            "host": "127.0.0.1:5000",
            "method": "PUT",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// mount-blob.json
inline constexpr char kMountBlob[] = R"JSON({
   "events": [
      {
         "id": "3e780766-0bcb-4d43-b8a3-b6b653db6a55",
         "timestamp": "2026-11-22T20:48:56.802380763Z",
         "action": "mount",
         "target": {
            "mediaType": "application/octet-stream",
            "size": 641,
            "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc",
            "length": 641,
            "repository": "ns/retry",
            "fromRepository": "lib/x",
            "url": "http://127.0.0.1:5000/v2/ns/retry/blobs/sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
         },
         "request": {
            "id": "d0fd9136-1fdb-4d47-9824-03be4576ca69",
            "addr": "127.0.0.1:60872",
            "host": "127.0.0.1:5000",
            "method": "POST",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// pull-blob-get.json
inline constexpr char kPullBlobGet[] = R"JSON({
   "events": [
      {
         "id": "80712ba2-7f75-41af-99a4-c9f3efb18bc1",
         "timestamp": "2026-11-22T20:37:38.871332463Z",
         "action": "pull",
         "target": {
            "mediaType": "application/octet-stream",
            "size": 641,
            "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc",
            "length": 641,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/blobs/sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
         },
         "request": {
            "id": "7a39ba5c-aaf9-4546-8b4b-95a995c92377",
            "addr": "127.0.0.1:37188",
            "host": "127.0.0.1:5000",
            "method": "GET",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "bob"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// pull-blob-head.json
inline constexpr char kPullBlobHead[] = R"JSON({
   "events": [
      {
         "id": "1546ae63-6055-4793-9e1e-cccafb1e7022",
         "timestamp": "2026-11-22T20:37:38.773519619Z",
         "action": "pull",
         "target": {
            "mediaType": "application/octet-stream",
            "size": 641,
            "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc",
            "length": 641,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/blobs/sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
         },
         "request": {
            "id": "ed98010c-deac-4a50-9b3c-df0950090db1",
            "addr": "127.0.0.1:37134",
            "host": "127.0.0.1:5000",
            "method": "HEAD",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// pull-manifest-oci.json
inline constexpr char kPullManifestOci[] = R"JSON({
   "events": [
      {
         "id": "4cb00961-9e84-48c7-9dd9-0fe72e408b49",
         "timestamp": "2026-11-22T20:37:38.86042394Z",
         "action": "pull",
         "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 345,
            "digest": "sha256:49ce1e4e19ad23b4be19d708a64b6fc7bb64036bc68ab561fd3d8888dbfff422",
            "length": 345,
            "repository": "ns/app",
            "url": "http://127.0.0.1:5000/v2/ns/app/manifests/sha256:49ce1e4e19ad23b4be19d708a64b6fc7bb64036bc68ab561fd3d8888dbfff422",
            "tag": "v1",
            "references": [
               {
                  "mediaType": "application/vnd.oci.image.config.v1+json",
                  "size": 404,
                  "digest": "sha256:9145669cf9dfa21f53d33ab4e36f2b9c3d7b28984c2432ec0fa89a538ca4def1"
               },
               {
                  "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "size": 641,
                  "digest": "sha256:5097872ede7b3d7c1092d991e699932e8db1647a1b1977ea8d9df0433207d0fc"
               }
            ]
         },
         "request": {
            "id": "f0c6b456-5301-499c-9d6e-4814dc28de0f",
            "addr": "127.0.0.1:37182",
            "host": "127.0.0.1:5000",
            "method": "GET",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "bob"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// delete-manifest.json
inline constexpr char kDeleteManifest[] = R"JSON({
   "events": [
      {
         "id": "7e864400-5139-4998-8e3a-4f5d7154dbd4",
         "timestamp": "2026-11-22T20:37:49.326598907Z",
         "action": "delete",
         "target": {
            "digest": "sha256:89f5c49f174ad98065c40218d2ffb24dc1f35ef0eb8cdf54b9ede25850e74407",
            "repository": "ns/app"
         },
         "request": {
            "id": "a5029d87-0d2e-4365-b323-d586992b4a50",
            "addr": "127.0.0.1:48276",
            "host": "127.0.0.1:5000",
            "method": "DELETE",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

// delete-tag.json
inline constexpr char kDeleteTag[] = R"JSON({
   "events": [
      {
         "id": "82b2d6aa-657c-4762-bca6-0036ce3d613e",
         "timestamp": "2026-11-22T20:37:49.331067757Z",
         "action": "delete",
         "target": {
            "repository": "ns/app",
            "tag": "v2"
         },
         "request": {
            "id": "a5029d87-0d2e-4365-b323-d586992b4a50",
            "addr": "127.0.0.1:48276",
            "host": "127.0.0.1:5000",
            "method": "DELETE",
            "useragent": "skopeo/1.9.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "vm:5000",
            "instanceID": "664dd801-1a9d-4f8a-a38e-4c4700635f74"
         }
      }
   ]
})JSON";

}  // namespace portunus::catalog::testdata
