<?php
return [
    'backend' => [
        'frontName' => 'admin_acme'
    ],
    'crypt' => [
        'key' => '4b3d1f7a9c2e5b8d0f6a1c3e5d7f9b2a'
    ],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => 'localhost',
                'dbname' => 'magento',
                'username' => 'magento',
                'password' => 'db-pass-123',
                'model' => 'mysql4',
                'engine' => 'innodb',
                'initStatements' => 'SET NAMES utf8;',
                'active' => '1'
            ]
        ]
    ],
    'resource' => [
        'default_setup' => [
            'connection' => 'default'
        ]
    ],
    'x-frame-options' => 'SAMEORIGIN',
    'MAGE_MODE' => 'production',
    'session' => [
        'save' => 'files'
    ],
    'cache_types' => [
        'config' => 1,
        'layout' => 1,
        'block_html' => 1,
        'collections' => 1,
        'db_ddl' => 1,
        'eav' => 1,
        'full_page' => 1,
        'translate' => 1
    ],
    'install' => [
        'date' => 'Mon, 02 Mar 2020 10:12:45 +0000'
    ]
];
